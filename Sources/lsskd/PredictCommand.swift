import ArgumentParser
import Foundation
import LSSKDData
import LSSKDNN
import LSSKDTensor

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify PNG/JPEG images with an exported model (or a checkpoint): top-k classes per image.")

    @Argument(help: "Model file (from `lsskd export`) or checkpoint.")
    var model: String

    @Argument(help: "Image files (PNG or JPEG); resized to the model's input size.")
    var images: [String]

    @Option(help: "How many classes to print per image.")
    var top = 3

    @Option(help: "Kernel threads (0: all cores).")
    var threads = 0

    @Flag(help: "Print one JSON object per image ({\"image\", \"top\": [{\"class\", \"name\", \"probability\"}]}), one per line.")
    var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard top > 0 else { throw ValidationError("--top must be positive") }
    }

    func run() throws {
        Runtime.threadCount = threads
        let file = try ModelFile(path: model)
        let (pixels, channels) = try FolderLoader.loadImages(paths: images, height: file.imageSize, width: file.imageSize,
                                                             channels: file.inChannels, filter: file.resizeFilter)
        let set = ImageDataset(pixels: pixels, labels: [Int32](repeating: 0, count: images.count), channels: channels,
                               height: file.imageSize, width: file.imageSize, classCount: file.classes)
        let loader = BatchLoader(dataset: set, batchSize: 64, normalization: file.normalization, shuffle: false,
                                 dropLast: false, seed: 0)
        let k = min(top, file.classes)
        try Autograd.withNoGrad {
            try loader.forEachBatch(epoch: 0) { _, batch in
                let probabilities = try softmax(try file.model(Variable(batch.images)).value)
                probabilities.withUnsafeBufferPointer { p in
                    for (row, i) in batch.indices.enumerated() {
                        let rowStart = row * file.classes
                        let ranked = (0..<file.classes).sorted { p[rowStart + $0] > p[rowStart + $1] }.prefix(k)
                        if json {
                            let top: [[String: Any]] = ranked.map { c in
                                ["class": c, "name": label(c, file.classNames), "probability": Double(p[rowStart + c])]
                            }
                            print(jsonLine(["image": images[i], "top": top]))
                            continue
                        }
                        let text = ranked.map { c in
                            String(format: "%@ %.1f%%", label(c, file.classNames), 100 * Double(p[rowStart + c]))
                        }.joined(separator: ", ")
                        print("\(images[i]): \(text)")
                    }
                }
            }
        }
    }

    private func label(_ c: Int, _ names: [String]?) -> String {
        if let names, c < names.count { return names[c] }
        return "class \(c)"
    }
}
