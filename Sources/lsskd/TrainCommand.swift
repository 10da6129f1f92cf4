import ArgumentParser
import Foundation
import LSSKDData
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier with cross-entropy and report test accuracy every epoch.")

    @Option(help: "Dataset as KIND:DIR, KIND one of \(DataSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var data = DataSpec(argument: "fashion-mnist:/usr/share/datasets/fashion-mnist")!

    @Option(help: "Model: simplecnn or a CIFAR architecture (\(ModelZoo.names.joined(separator: ", "))).")
    var model = "simplecnn"

    @Option(help: "Width of the first stage of simplecnn (ignored by other models).")
    var width = 16

    @Option(help: "Epochs.")
    var epochs = 3

    @Option(help: "Mini-batch size.")
    var batch = 64

    @Option(help: "Initial learning rate.")
    var lr: Float = 0.05

    @Option(help: "LR schedule: constant | cosine | step:N | multistep:E1,E2,...")
    var schedule = "cosine"

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Flag(help: "Nesterov momentum.")
    var nesterov = false

    @Option(help: "Weight decay.")
    var wd: Float = 5e-4

    @Option(help: "Use only the first N training images (0: all).")
    var trainLimit = 20000

    @Option(help: "Random seed (initialisation and batch order).")
    var seed: UInt64 = 0

    @Option(help: "Kernel threads (0: all cores).")
    var threads = 0

    @Option(help: "Run folder: metrics.jsonl and checkpoint.lsk (written after every epoch).")
    var out = "runs/demo"

    @Flag(help: "Continue the run in --out from its checkpoint (same flags as the first run).")
    var resume = false

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard model == "simplecnn" || ModelZoo.canonicalName(model) != nil else {
            throw ValidationError("unknown --model \(model) (available: simplecnn, \(ModelZoo.names.joined(separator: ", ")))")
        }
        _ = try parseSchedule()
    }

    func parseSchedule() throws -> LRSchedule {
        let parts = schedule.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "constant": return .constant(lr)
        case "cosine": return .cosine(lr, totalEpochs: epochs)
        case "step":
            guard parts.count == 2, let n = Int(parts[1]), n > 0 else { throw ValidationError("--schedule step:N needs N > 0") }
            return .step(lr, stepSize: n)
        case "multistep":
            let ms = parts.count == 2 ? parts[1].split(separator: ",").compactMap { Int($0) } : []
            guard !ms.isEmpty else { throw ValidationError("--schedule multistep:E1,E2 needs epochs") }
            return .multiStep(lr, milestones: ms)
        default: throw ValidationError("unknown --schedule \(schedule)")
        }
    }

    func run() throws {
        Runtime.threadCount = threads
        let runDir = URL(fileURLWithPath: out)
        do {
            try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create run folder \(out): \(error.localizedDescription)")
        }
        let metrics = runDir.appendingPathComponent("metrics.jsonl")
        let checkpoint = runDir.appendingPathComponent("checkpoint.lsk").path
        if !resume {
            guard FileManager.default.createFile(atPath: metrics.path, contents: nil) else {
                throw CLIError("cannot write \(metrics.path)")
            }
        } else if !FileManager.default.fileExists(atPath: checkpoint) {
            throw CLIError("--resume: no checkpoint at \(checkpoint)")
        }

        var trainSet = try data.load(train: true)
        if trainLimit > 0 { trainSet = trainSet.prefix(trainLimit) }
        let testSet = try data.load(train: false)
        let norm = ChannelNormalization(statisticsOf: trainSet)
        print("data: \(data), \(trainSet.count) train / \(testSet.count) test images of \(trainSet.channels)x\(trainSet.height)x\(trainSet.width), \(trainSet.classCount) classes")

        var rng = RNG(seed: seed)
        let net: Module = model == "simplecnn"
            ? SimpleCNN(inChannels: trainSet.channels, classes: trainSet.classCount, width: width, rng: &rng)
            : try ModelZoo.make(name: model, inChannels: trainSet.channels, classes: trainSet.classCount, rng: &rng)
        print("model: \(model), \(net.parameterCount) parameters; kernels: \(Runtime.isa), \(Runtime.threadCount) threads")

        let trainLoader = BatchLoader(dataset: trainSet, batchSize: batch, normalization: norm, shuffle: true,
                                      dropLast: true, seed: seed)
        let testLoader = BatchLoader(dataset: testSet, batchSize: 256, normalization: norm, shuffle: false,
                                     dropLast: false, seed: 0)
        let config = TrainConfig(epochs: epochs, schedule: try parseSchedule(), momentum: momentum,
                                 nesterov: nesterov, weightDecay: wd)
        let trainer = try ClassifierTrainer(model: net, train: trainLoader, test: testLoader, config: config,
                                            metricsURL: metrics)
        trainer.checkpointPath = checkpoint
        if resume {
            try trainer.resume(from: checkpoint)
            print("resumed from \(checkpoint) after epoch \(trainer.startEpoch)")
        }
        let history = try trainer.run { print($0); fflush(stdout) }
        if let last = history.last, let t = last.test {
            print(String(format: "final: test top-1 %.2f%%, top-5 %.2f%%, %.0f train images/s; metrics in %@",
                         100 * t.top1, 100 * t.top5, last.imagesPerSecond, metrics.path))
        }
    }
}
