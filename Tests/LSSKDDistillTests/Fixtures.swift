import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

/// `count` random RGB images `size x size` in `classes` classes (class c brightens channel c % 3).
func syntheticDataset(count: Int = 8, size: Int = 8, classes: Int = 3, seed: UInt64 = 3) -> ImageDataset {
    var rng = RNG(seed: seed)
    var pixels = [UInt8](), labels = [Int32]()
    for i in 0..<count {
        let y = i % classes
        for ch in 0..<3 {
            for _ in 0..<(size * size) {
                pixels.append(UInt8(min(255, Int(rng.uniform(0, 120)) + (ch == y % 3 ? 100 : 0))))
            }
        }
        labels.append(Int32(y))
    }
    return ImageDataset(pixels: pixels, labels: labels, channels: 3, height: size, width: size, classCount: classes)
}

func loader(_ ds: ImageDataset, batch: Int, shuffle: Bool = false) -> BatchLoader {
    BatchLoader(dataset: ds, batchSize: batch, normalization: ChannelNormalization(statisticsOf: ds),
                shuffle: shuffle, dropLast: true, seed: 5)
}

func tinyResNet(classes: Int = 3, seed: UInt64 = 11) throws -> (StagedNetwork, RNG) {
    var rng = RNG(seed: seed)
    let net = try ModelZoo.make(name: "resnet20", inChannels: 3, classes: classes, rng: &rng)
    return (net, rng)
}

func assertClose(_ a: [Float], _ b: [Float], _ tol: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) where !(abs(x - y) <= tol) { return false }
    return true
}

/// The description a checkpoint of a test model carries (unit normalisation).
func testDescription(model: String, channels: Int, classes: Int, size: Int = 8) -> ModelDescription {
    ModelDescription(model: model, width: 16, inChannels: channels, classes: classes, imageSize: size,
                     normMean: [Float](repeating: 0, count: channels), normStd: [Float](repeating: 1, count: channels), method: "ce")
}
