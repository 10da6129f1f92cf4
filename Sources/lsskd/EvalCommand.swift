import ArgumentParser
import Foundation
import LSSKDData
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint written by `lsskd train` on a dataset split (top-1, top-5, loss).")

    @Argument(help: "Checkpoint file (RUN/checkpoint.lsk).")
    var checkpoint: String

    @Option(help: "Dataset as KIND:DIR (default: the one the checkpoint was trained on).")
    var data: DataSpec?

    @Option(help: "Split to evaluate: test or train.")
    var split = "test"

    @Option(help: "Mini-batch size.")
    var batch = 256

    @Option(help: "Kernel threads (0: all cores).")
    var threads = 0

    func validate() throws {
        guard split == "test" || split == "train" else { throw ValidationError("--split must be test or train") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
    }

    func run() throws {
        Runtime.threadCount = threads
        let archive = try TensorArchive.read(from: checkpoint)
        let meta = archive.metadata
        func need(_ key: String) throws -> String {
            guard let v = meta[key] else { throw CLIError("\(checkpoint): metadata has no \(key) (written by an older lsskd?)") }
            return v
        }
        let dataEntry = try need("data")
        guard let spec = data ?? DataSpec(argument: dataEntry) else { throw CLIError("\(checkpoint): bad data entry '\(dataEntry)'") }
        let modelName = try need("model")
        guard let width = Int(try need("width")), let inChannels = Int(try need("in_channels")),
              let classes = Int(try need("classes")) else { throw CLIError("\(checkpoint): bad model metadata") }
        let norm = ChannelNormalization(mean: try floats(try need("norm_mean")), std: try floats(try need("norm_std")))

        var options = DataSpec.FolderOptions(imageSize: Int(meta["image_size"] ?? "") ?? 32, channels: inChannels, filter: .area)
        options.channels = inChannels
        let set = try spec.load(train: split == "train", folder: options)
        guard set.channels == inChannels, set.classCount == classes else {
            throw CLIError("\(spec) has \(set.channels)-channel images in \(set.classCount) classes; the checkpoint expects \(inChannels) and \(classes)")
        }
        var rng = RNG(seed: 0)
        let model = try ModelChoice.make(modelName, width: width, inChannels: inChannels, classes: classes, rng: &rng)
        var state = [String: Tensor]()
        for name in archive.names where name.hasPrefix("model.") { state[String(name.dropFirst(6))] = archive[name] }
        do { try model.loadStateDict(state) } catch { throw CLIError("\(checkpoint) does not fit \(modelName): \(error)") }

        let loader = BatchLoader(dataset: set, batchSize: batch, normalization: norm, shuffle: false, dropLast: false, seed: 0)
        let start = Date()
        let r = try evaluate(model, on: loader)
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "%@ on %@ %@ (%d images): top-1 %.2f%%, top-5 %.2f%%, loss %.4f, ECE %.4f, %.0f images/s",
                     modelName, spec.description, split, r.count, 100 * r.top1, 100 * r.top5, r.loss, r.ece,
                     Double(r.count) / seconds))
    }

    private func floats(_ s: String) throws -> [Float] {
        let v = s.split(separator: ",").compactMap { Float($0) }
        guard !v.isEmpty else { throw CLIError("\(checkpoint): bad normalisation entry '\(s)'") }
        return v
    }
}
