import ArgumentParser
import Foundation
import LSSKDData
import LSSKDDistill
import LSSKDModels
import LSSKDNN
import LSSKDTensor
import LSSKDTrain

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier (cross-entropy, a self-distillation method, or LSSKD) and report test accuracy every epoch.")

    @Option(help: "Training method: \(MethodKind.allCases.map(\.rawValue).joined(separator: " | ")) (docs: shared/method/LSSKD.md).")
    var method = "ce"

    @Option(help: "lsskd/pskd: a_T of the progressive soft targets a_e = a_T (e+1)/E.")
    var alphaT: Float = 0.8

    @Option(help: "lsskd: weight beta of L_KL.")
    var beta: Float = 1

    @Option(help: "lsskd: weight gamma of L_FEAT.")
    var gamma: Float = 1

    @Option(help: "lsskd: temperature tau of L_KL.")
    var tau: Float = 3

    @Option(help: "lsskd: which branch teaches branch s in L_KL: deepest | chain (s+1).")
    var klTeacher = "deepest"

    @Option(help: "lsskd: L_FEAT reduction: mean (per-element MSE) | sum (over channels; C times larger).")
    var featReduction = "mean"

    @Flag(help: "lsskd/sad: feed the branches detached stage outputs.")
    var detachBranchInputs = false

    @Option(help: "lsskd/pskd: precision of the per-sample prediction memories: half | fp32.")
    var memoryPrecision = "half"

    @Option(help: "ls: label smoothing epsilon.")
    var smoothing: Float = 0.1

    @Option(help: "kd: the teacher, a checkpoint or exported model of the same dataset.")
    var teacher: String?

    @Option(help: "kd: temperature.")
    var kdTemperature: Float = 4

    @Option(help: "cskd: temperature of the class-wise KL.")
    var cskdTemperature: Float = 4

    @Option(help: "cskd: weight lambda of the class-wise KL.")
    var cskdLambda: Float = 1

    @Option(help: "tfkd: alpha (weight of the virtual-teacher term; CE gets 1 - alpha).")
    var tfkdAlpha: Float = 0.1

    @Option(help: "tfkd: temperature of the virtual teacher.")
    var tfkdTemperature: Float = 20

    @Option(help: "tfkd: multiplier of the virtual-teacher KL (mean over batch x classes, as nn.KLDivLoss()).")
    var tfkdMultiplier: Float = 100

    @Option(help: "Dataset as KIND:DIR, KIND one of \(DataSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var data = DataSpec(argument: "fashion-mnist:/usr/share/datasets/fashion-mnist")!

    @Option(help: "Model: simplecnn or a CIFAR architecture (\(ModelZoo.names.joined(separator: ", "))).")
    var model = "resnet20"

    @Option(help: "Width of the first stage of simplecnn (ignored by other models).")
    var width = 16

    @Option(help: "Epochs.")
    var epochs = 5

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
    var trainLimit = 0

    @Option(help: "Folder datasets (--data folder:DIR): resize images to N x N.")
    var imageSize = 32

    @Option(help: "Folder datasets: resize filter, area (box average; anti-aliased) or bilinear.")
    var resize = "area"

    @Option(help: "Folder datasets: 1 (grey) or 3 (RGB) channels; 0: 3 if any image is in colour.")
    var channels = 0

    @Option(help: "Train on a stratified fraction F (0 < F <= 1) of the training images, chosen by --seed.")
    var fraction: Double = 1

    @Option(help: "Hold out a stratified fraction F of the training images (chosen by --seed) and evaluate on it instead of the test set (reported as val). Default for a folder dataset without a test split: 0.1.")
    var valSplit: Double?

    @Option(help: "Augmentation: none | standard (pad-4 crop + flip) | standard+cutout | standard+cutmix (default: standard for 32x32 RGB data, none otherwise).")
    var augment: String?

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
        guard ModelChoice.isKnown(model) else {
            throw ValidationError("unknown --model \(model) (available: \(ModelChoice.names.joined(separator: ", ")))")
        }
        _ = try parseSchedule()
        _ = try methodOptions()
        guard imageSize > 0 && imageSize <= 4096 else { throw ValidationError("--image-size must be in 1...4096") }
        guard ResizeFilter(rawValue: resize) != nil else { throw ValidationError("--resize must be area or bilinear") }
        guard [0, 1, 3].contains(channels) else { throw ValidationError("--channels must be 0, 1 or 3") }
        guard fraction > 0 && fraction <= 1 else { throw ValidationError("--fraction must be in (0, 1]") }
        if let v = valSplit, !(v > 0 && v < 1) { throw ValidationError("--val-split must be in (0, 1)") }
        if let a = augment, Augmentation(named: a) == nil {
            throw ValidationError("unknown --augment \(a) (none, standard, standard+cutout, standard+cutmix)")
        }
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

    func methodOptions() throws -> (MethodKind, MethodOptions) {
        guard let kind = MethodKind(rawValue: method) else {
            throw ValidationError("unknown --method \(method) (\(MethodKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var o = MethodOptions()
        guard alphaT >= 0 && alphaT <= 1 else { throw ValidationError("--alpha-t must be in [0, 1]") }
        guard beta >= 0, gamma >= 0, tau > 0 else { throw ValidationError("--beta, --gamma must be >= 0 and --tau > 0") }
        guard smoothing >= 0 && smoothing < 1 else { throw ValidationError("--smoothing must be in [0, 1)") }
        guard let klTeacherChoice = LSSKDConfig.KLTeacher(rawValue: klTeacher) else { throw ValidationError("--kl-teacher must be deepest or chain") }
        guard let reduction = LSSKDConfig.FeatureReduction(rawValue: featReduction) else { throw ValidationError("--feat-reduction must be mean or sum") }
        guard let precision = MemoryPrecision(rawValue: memoryPrecision) else { throw ValidationError("--memory-precision must be half or fp32") }
        o.lsskd.alphaT = alphaT
        o.lsskd.beta = beta
        o.lsskd.gamma = gamma
        o.lsskd.tau = tau
        o.lsskd.klTeacher = klTeacherChoice
        o.lsskd.featureReduction = reduction
        o.lsskd.detachBranchInputs = detachBranchInputs
        o.lsskd.memoryPrecision = precision
        o.pskdAlphaT = alphaT
        o.smoothing = smoothing
        o.kdTemperature = kdTemperature
        guard cskdTemperature > 0, cskdLambda >= 0 else { throw ValidationError("--cskd-temperature must be > 0 and --cskd-lambda >= 0") }
        guard tfkdAlpha >= 0 && tfkdAlpha <= 1, tfkdTemperature > 0, tfkdMultiplier >= 0 else {
            throw ValidationError("--tfkd-alpha must be in [0, 1], --tfkd-temperature > 0, --tfkd-multiplier >= 0")
        }
        o.cskdTemperature = cskdTemperature
        o.cskdLambda = cskdLambda
        o.tfkdAlpha = tfkdAlpha
        o.tfkdTemperature = tfkdTemperature
        o.tfkdMultiplier = tfkdMultiplier
        if kind == .kd && teacher == nil { throw ValidationError("--method kd needs --teacher FILE") }
        return (kind, o)
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

        let folder = DataSpec.FolderOptions(imageSize: imageSize, channels: channels == 0 ? nil : channels,
                                            filter: ResizeFilter(rawValue: resize) ?? .area)
        var trainSet = try data.load(train: true, folder: folder)
        if trainLimit > 0 && trainLimit < trainSet.count {
            // A folder dataset is sorted by class: take a stratified subset, not a prefix.
            trainSet = data.kind == .folder
                ? trainSet.stratifiedFraction(Double(trainLimit) / Double(trainSet.count), seed: seed)
                : trainSet.prefix(trainLimit)
        }
        // The held-out split comes first, so it does not depend on --fraction.
        let split = valSplit ?? (data.hasTestSplit ? nil : 0.1)
        let evalName = split == nil ? "test" : "val"
        let testSet: ImageDataset
        if let v = split {
            if valSplit == nil { print("data: \(data) has no test split; holding out --val-split \(v) of the training images") }
            (trainSet, testSet) = trainSet.stratifiedSplit(holdOut: v, seed: seed)
        } else {
            var options = folder
            options.channels = trainSet.channels
            testSet = try data.load(train: false, folder: options)
        }
        if fraction < 1 { trainSet = trainSet.stratifiedFraction(fraction, seed: seed) }
        let augmentation = augment.flatMap { Augmentation(named: $0) }
            ?? Augmentation.defaultFor(channels: trainSet.channels, height: trainSet.height, width: trainSet.width)
        let norm = ChannelNormalization(statisticsOf: trainSet)
        print("data: \(data), \(trainSet.count) train / \(testSet.count) \(evalName) images of \(trainSet.channels)x\(trainSet.height)x\(trainSet.width), \(trainSet.classCount) classes; augmentation \(augmentation)")

        var rng = RNG(seed: seed)
        let net = try ModelChoice.make(model, width: width, inChannels: trainSet.channels, classes: trainSet.classCount,
                                       rng: &rng)
        print("model: \(model), \(net.parameterCount) parameters; kernels: \(Runtime.isa), \(Runtime.threadCount) threads")
        let (kind, methodDefaults) = try methodOptions()
        var options = methodDefaults
        if kind == .kd, let path = teacher {
            let archive = try TensorArchive.read(from: path)
            guard let name = archive.metadata["model"], let tc = archive.metadata["classes"].flatMap(Int.init), tc == trainSet.classCount else {
                throw CLIError("\(path): not a model of \(trainSet.classCount) classes")
            }
            var trng = RNG(seed: 0)
            let t = try ModelChoice.make(name, width: archive.metadata["width"].flatMap(Int.init) ?? 16, inChannels: trainSet.channels,
                                         classes: tc, rng: &trng)
            do { try ModelExport.load(archive, into: t) } catch { throw CLIError("\(path) does not fit \(name): \(error)") }
            options.teacher = t
            print("teacher: \(name) from \(path), \(t.parameterCount) parameters")
        }
        if kind.usesRotations && trainSet.height != trainSet.width {
            throw CLIError("--method \(kind.rawValue) rotates images and needs square ones, not \(trainSet.height)x\(trainSet.width)")
        }
        let trainLoader = BatchLoader(dataset: trainSet, batchSize: batch, normalization: norm, shuffle: true,
                                      dropLast: true, seed: seed, augmentation: augmentation)
        options.trainLoader = trainLoader
        let trainingMethod: TrainingMethod
        do {
            trainingMethod = try kind.make(model: net, classes: trainSet.classCount, sampleIndices: trainSet.originalIndices,
                                           options: options, rng: &rng)
        } catch { throw CLIError("\(error)") }
        var methodLine = "method: \(kind.rawValue)"
        if let aux = trainingMethod.auxiliary { methodLine += ", auxiliary branches \(aux.parameterCount) parameters (training only)" }
        if let l = trainingMethod as? LSSKD {
            let c = l.config
            methodLine += String(format: ", a_T %.2f, beta %.2f, gamma %.2f, tau %.1f, kl-teacher %@, feat %@, %@ inputs",
                                 c.alphaT, c.beta, c.gamma, c.tau, c.klTeacher.rawValue, c.featureReduction.rawValue,
                                 c.detachBranchInputs ? "detached" : "attached")
            let bytes = (l.finalMemory.map { [$0] } ?? []).reduce(0) { $0 + $1.byteCount } + l.branchMemories.reduce(0) { $0 + $1.byteCount }
            if bytes > 0 { methodLine += String(format: ", memories %.1f MB (%@)", Double(bytes) / 1e6, c.memoryPrecision.rawValue) }
        } else if let p = trainingMethod as? PSKD {
            methodLine += String(format: ", a_T %.2f, memory %.1f MB", p.alphaT, Double(p.memory.byteCount) / 1e6)
        } else if kind == .ls {
            methodLine += String(format: ", smoothing %.2f", smoothing)
        } else if let c = trainingMethod as? CSKD {
            methodLine += String(format: ", T %.1f, lambda %.2f", c.temperature, c.lambda)
        } else if let t = trainingMethod as? TeacherFreeKD {
            methodLine += String(format: ", alpha %.2f, T %.1f, multiplier %.0f, correct-class probability %.2f",
                                 t.alpha, t.temperature, t.multiplier, t.correctProbability)
        } else if let k = trainingMethod as? KnowledgeDistillation {
            methodLine += String(format: ", T %.1f, weights ce %.2f / kd %.2f", k.temperature, k.ceWeight, k.kdWeight)
        }
        print(methodLine)

        let testLoader = BatchLoader(dataset: testSet, batchSize: 256, normalization: norm, shuffle: false,
                                     dropLast: false, seed: 0)
        let config = TrainConfig(epochs: epochs, schedule: try parseSchedule(), momentum: momentum,
                                 nesterov: nesterov, weightDecay: wd)
        let trainer = try ClassifierTrainer(model: net, method: trainingMethod, train: trainLoader, test: testLoader, config: config,
                                            metricsURL: metrics)
        trainer.checkpointPath = checkpoint
        trainer.evalSetName = evalName
        trainer.checkpointMetadata = [
            "model": model, "width": "\(width)", "in_channels": "\(trainSet.channels)", "classes": "\(trainSet.classCount)",
            "image_size": "\(trainSet.height)", "data": data.description, "method": kind.rawValue,
            "method_options": methodLine,
            "norm_mean": norm.mean.map { "\($0)" }.joined(separator: ","),
            "norm_std": norm.std.map { "\($0)" }.joined(separator: ","),
        ]
        if let names = trainSet.classNames { trainer.checkpointMetadata["class_names"] = names.joined(separator: "\n") }
        let onTerminal = isatty(STDOUT_FILENO) != 0
        trainer.progressInterval = onTerminal ? 0.5 : 10
        if resume {
            try trainer.resume(from: checkpoint)
            print("resumed from \(checkpoint) after epoch \(trainer.startEpoch)")
        }
        let history = try trainer.run(reporting: { report in
            switch report {
            case .progress(let line) where onTerminal: print("\r\u{1B}[K" + line, terminator: "")
            case .progress(let line): print(line)
            case .epoch(let line): print(onTerminal ? "\r\u{1B}[K" + line : line)
            }
            fflush(stdout)
        })
        if let last = history.last, let t = last.test {
            print(String(format: "final: \(evalName) top-1 %.2f%%, top-5 %.2f%%, %.0f train images/s; metrics in %@",
                         100 * t.top1, 100 * t.top5, last.imagesPerSecond, metrics.path))
        }
    }
}
