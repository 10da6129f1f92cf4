import XCTest
import LSSKDTensor
@testable import LSSKDData

final class BatchLoaderTests: XCTestCase {
    /// 10 grey 2x2 images; image i has every pixel = 10*i, label i % 3.
    private func tinyDataset() -> ImageDataset {
        ImageDataset(pixels: (0..<10).flatMap { [UInt8](repeating: UInt8(10 * $0), count: 4) },
                     labels: (0..<10).map { Int32($0 % 3) }, channels: 1, height: 2, width: 2, classCount: 3)
    }

    func testEpochOrderIsSeededPermutationAndReproducible() {
        let ds = tinyDataset()
        let norm = ChannelNormalization(mean: [0], std: [1])
        let a = BatchLoader(dataset: ds, batchSize: 3, normalization: norm, shuffle: true, dropLast: true, seed: 7)
        let b = BatchLoader(dataset: ds, batchSize: 3, normalization: norm, shuffle: true, dropLast: true, seed: 7)
        XCTAssertEqual(a.order(epoch: 2), b.order(epoch: 2), "same seed and epoch give the same order")
        XCTAssertEqual(a.order(epoch: 0).sorted(), Array(0..<10), "an epoch visits every sample once")
        XCTAssertNotEqual(a.order(epoch: 0), a.order(epoch: 1), "epochs are shuffled differently")
        XCTAssertEqual(a.batchesPerEpoch, 3)
    }

    func testBatchesCarryIndicesLabelsAndNormalisedPixels() throws {
        let ds = tinyDataset()
        let norm = ChannelNormalization(mean: [0.5], std: [0.25])
        let loader = BatchLoader(dataset: ds, batchSize: 4, normalization: norm, shuffle: true, dropLast: false, seed: 1)
        var seen = [Int]()
        try loader.forEachBatch(epoch: 3) { b, batch in
            XCTAssertEqual(batch.images.shape, [batch.indices.count, 1, 2, 2])
            for (row, i) in batch.indices.enumerated() {
                XCTAssertEqual(batch.labels[row], i % 3)
                let expected = (Float(10 * i) / 255 - 0.5) / 0.25
                XCTAssertEqual(batch.images[flat: row * 4 + 3], expected, accuracy: 1e-5)
            }
            seen += batch.indices
        }
        XCTAssertEqual(seen, loader.order(epoch: 3), "batches follow the epoch order, none dropped")
    }

    func testNormalisationStatistics() {
        let ds = ImageDataset(pixels: [0, 255, 0, 255], labels: [0], channels: 1, height: 2, width: 2, classCount: 1)
        let n = ChannelNormalization(statisticsOf: ds)
        XCTAssertEqual(n.mean[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(n.std[0], 0.5, accuracy: 1e-6)
    }
}
