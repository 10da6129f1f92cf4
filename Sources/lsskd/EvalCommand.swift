import ArgumentParser
import Foundation
import LSSKDData
import LSSKDDeploy
import LSSKDDistill
import LSSKDModels
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

    @Option(help: "swift (the training code's modules) or c (the C inference runtime of include/lsk_model.h, on an exported .lskm: what an edge device runs).")
    var engine = "swift"

    @Flag(help: "Print the result as one JSON object (top1, top5, loss, ece, count, branches…).")
    var json = false

    func validate() throws {
        guard split == "test" || split == "train" else { throw ValidationError("--split must be test or train") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard engine == "swift" || engine == "c" else { throw ValidationError("--engine must be swift or c, not '\(engine)'") }
    }

    func run() throws {
        Runtime.threadCount = threads
        let file = try ModelFile(path: checkpoint)
        let dataEntry = file.description.data ?? ""
        guard let spec = data ?? DataSpec(argument: dataEntry) else {
            throw CLIError("\(checkpoint): no usable data entry ('\(dataEntry)'); pass --data")
        }
        var options = DataSpec.FolderOptions(imageSize: file.imageSize, channels: file.inChannels, filter: file.resizeFilter)
        options.channels = file.inChannels
        let set = try spec.load(train: split == "train", folder: options)
        guard set.channels == file.inChannels, set.classCount == file.classes else {
            throw CLIError("\(spec) has \(set.channels)-channel images in \(set.classCount) classes; the model expects \(file.inChannels) and \(file.classes)")
        }
        let model = file.model, modelName = file.name, norm = file.normalization
        let loader = BatchLoader(dataset: set, batchSize: batch, normalization: norm, shuffle: false, dropLast: false, seed: 0)
        let start = Date()
        let r = engine == "c" ? try evaluateWithRuntime(on: set) : try evaluate(model, on: loader)
        let seconds = Date().timeIntervalSince(start)
        let branches = engine == "swift" ? try auxiliaryBranchAccuracy(file: file, loader: loader) : nil
        if json {
            var out: [String: Any] = ["model": modelName, "file": checkpoint, "data": spec.description, "split": split,
                                      "count": r.count, "top1": r.top1, "top5": r.top5, "loss": r.loss, "ece": r.ece,
                                      "kind": file.archive.kind.rawValue, "epochs": file.archive.epochsDone, "engine": engine]
            if let b = branches { out["branches"] = b }
            print(jsonLine(out))
            return
        }
        print(String(format: "%@ on %@ %@ (%d images, %@ engine): top-1 %.2f%%, top-5 %.2f%%, loss %.4f, ECE %.4f, %.0f images/s",
                     modelName, spec.description, split, r.count, engine, 100 * r.top1, 100 * r.top5, r.loss, r.ece,
                     Double(r.count) / seconds))
        if let branches {
            print("auxiliary branches (each class's 4 joint logits summed, unrotated images): " +
                  branches.keys.sorted().map { String(format: "%@ top-1 %.2f%%", $0, 100 * branches[$0]!) }.joined(separator: ", "))
        }
    }

    /// The C runtime's result on `set`: the file loaded by the runtime itself (its own reader
    /// and checks), pixels in [0, 1] (the runtime normalises them as the file says).
    func evaluateWithRuntime(on set: ImageDataset) throws -> EvalResult {
        let runtime: RuntimeModel
        do { runtime = try RuntimeModel(path: checkpoint) } catch { throw CLIError("C runtime: \(error)") }
        let context = try RuntimeContext(runtime, maxBatch: batch)
        let identity = ChannelNormalization(mean: [Float](repeating: 0, count: set.channels), std: [Float](repeating: 1, count: set.channels))
        let raw = BatchLoader(dataset: set, batchSize: batch, normalization: identity, shuffle: false, dropLast: false, seed: 0)
        let classes = runtime.classes
        return try LSSKDTrain.evaluate(on: raw) { b in
            let n = b.labels.count
            var logits = Tensor(uninitialized: [n, classes])
            try b.images.withUnsafeBufferPointer { x in
                try logits.withUnsafeMutableBufferPointer { try context.run(x.baseAddress!, batch: n, into: $0.baseAddress!) }
            }
            return logits
        }
    }

    /// Per-branch accuracy of an LSSKD/SAD checkpoint (its `aux.*` tensors); nil for other
    /// files (other methods, exported models: export drops the branches).
    func auxiliaryBranchAccuracy(file: ModelFile, loader: BatchLoader) throws -> [String: Double]? {
        guard let staged = file.model as? StagedModel, !file.auxiliaryState.isEmpty else { return nil }
        do {
            return try AuxiliaryBranches.accuracy(model: staged, classes: file.classes, state: file.auxiliaryState, on: loader)
        } catch let e as KernelError {
            throw CLIError("\(file.path): auxiliary branches do not fit \(file.name): \(e)")
        }
    }
}
