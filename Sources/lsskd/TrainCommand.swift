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

    @Option(parsing: .unconditional, help: "lsskd/pskd: a_T of the progressive soft targets a_e = a_T (e+1)/E.")
    var alphaT: Float = 0.8

    @Option(parsing: .unconditional, help: "lsskd: weight beta of L_KL.")
    var beta: Float = 1

    @Option(parsing: .unconditional, help: "lsskd: weight gamma of L_FEAT.")
    var gamma: Float = 1

    @Option(parsing: .unconditional, help: "lsskd: temperature tau of L_KL.")
    var tau: Float = 3

    @Option(help: "lsskd: which branch teaches branch s in L_KL: deepest | chain (s+1).")
    var klTeacher = "deepest"

    @Option(help: "lsskd: L_FEAT reduction: mean (per-element MSE) | sum (over channels; C times larger).")
    var featReduction = "mean"

    @Option(parsing: .unconditional, help: "lsskd: warm beta and gamma up from 0 over the first W epochs (factor min(1, e/W); 0: none, the spec).")
    var isWarmup = 0

    @Flag(help: "lsskd/sad: feed the branches detached stage outputs.")
    var detachBranchInputs = false

    @Option(help: "lsskd/pskd: precision of the per-sample prediction memories: half | fp32.")
    var memoryPrecision = "half"

    @Option(parsing: .unconditional, help: "ls: label smoothing epsilon.")
    var smoothing: Float = 0.1

    @Option(help: "kd: the teacher, a checkpoint or exported model of the same dataset.")
    var teacher: String?

    @Option(parsing: .unconditional, help: "kd: temperature.")
    var kdTemperature: Float = 4

    @Option(parsing: .unconditional, help: "cskd: temperature of the class-wise KL.")
    var cskdTemperature: Float = 4

    @Option(parsing: .unconditional, help: "cskd: weight lambda of the class-wise KL.")
    var cskdLambda: Float = 1

    @Option(parsing: .unconditional, help: "tfkd: alpha (weight of the virtual-teacher term; CE gets 1 - alpha).")
    var tfkdAlpha: Float = 0.1

    @Option(parsing: .unconditional, help: "tfkd: temperature of the virtual teacher.")
    var tfkdTemperature: Float = 20

    @Option(parsing: .unconditional, help: "tfkd: multiplier of the virtual-teacher KL (mean over batch x classes, as nn.KLDivLoss()).")
    var tfkdMultiplier: Float = 100

    @Option(help: "Dataset as KIND:DIR, KIND one of \(DataSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var data = DataSpec(argument: "fashion-mnist:/usr/share/datasets/fashion-mnist")!

    @Option(help: "Model: simplecnn or a CIFAR architecture (\(ModelZoo.names.joined(separator: ", "))).")
    var model = "resnet20"

    @Option(parsing: .unconditional, help: "Width of the first stage of simplecnn (ignored by other models).")
    var width = 16

    @Option(parsing: .unconditional, help: "Epochs.")
    var epochs = 5

    @Option(parsing: .unconditional, help: "Mini-batch size.")
    var batch = 64

    @Option(parsing: .unconditional, help: "Initial learning rate.")
    var lr: Float = 0.05

    @Option(help: "LR schedule: constant | cosine | step:N | multistep:E1,E2,...")
    var schedule = "cosine"

    @Option(parsing: .unconditional, help: "SGD momentum.")
    var momentum: Float = 0.9

    @Flag(help: "Nesterov momentum.")
    var nesterov = false

    @Option(parsing: .unconditional, help: "Weight decay.")
    var wd: Float = 5e-4

    @Option(parsing: .unconditional, help: "Use only the first N training images (0: all).")
    var trainLimit = 0

    @Option(parsing: .unconditional, help: "Folder datasets (--data folder:DIR): resize images to N x N.")
    var imageSize = 32

    @Option(help: "Folder datasets: resize filter, area (box average; anti-aliased) or bilinear.")
    var resize = "area"

    @Option(parsing: .unconditional, help: "Folder datasets: 1 (grey) or 3 (RGB) channels; 0: 3 if any image is in colour.")
    var channels = 0

    @Option(parsing: .unconditional, help: "Train on a stratified fraction F (0 < F <= 1) of the training images, chosen by --seed.")
    var fraction: Double = 1

    @Option(parsing: .unconditional, help: "Hold out a stratified fraction F of the training images (chosen by --seed) and evaluate on it instead of the test set (reported as val). Default for a folder dataset without a test split: 0.1.")
    var valSplit: Double?

    @Option(help: "Augmentation: none | standard (pad-4 crop + flip) | standard+cutout | standard+cutmix (default: standard for 32x32 RGB data, none otherwise).")
    var augment: String?

    @Option(parsing: .unconditional, help: "Evaluate every K epochs (and after the last); evaluation changes no weight.")
    var evalEvery = 1

    @Option(parsing: .unconditional, help: "Random seed (initialisation and batch order).")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Kernel threads (0: all cores).")
    var threads = 0

    @Option(help: "Run folder: config.json, metrics.jsonl and checkpoint.lsk (written after every epoch). A new run needs an empty or new folder.")
    var out = "runs/demo"

    @Flag(help: "Continue the run in --out from its checkpoint; refused if an option that changes the result differs from the recorded run.")
    var resume = false

    @Flag(help: "Start a new run in a non-empty --out, deleting its checkpoint, metrics and config.")
    var overwrite = false

    @Option(help: "Take the options from a run's config.json or a recipe file (JSON: {\"options\": {\"lr\": \"0.05\", …}}); options given after --config override it.")
    var config: String?

    @Option(parsing: .unconditional, help: "Diagnosis: every N steps, measure the gradient norm each loss term sends into each stage output (metrics.jsonl gradientNorms; 0: off). Costs one extra backward per term on those steps; changes no weight.")
    var diagnoseGradNorms = 0

    @Option(parsing: .unconditional, help: "Stop as diverged when a batch loss exceeds F times the first loss (0: only NaN/infinity stops).")
    var divergenceFactor: Double = 1e4

    @Flag(help: "Data-parallel runs (mpirun -np K): batch norm over the whole global batch (all ranks' rows) instead of each rank's share (docs/distributed.md).")
    var syncBn = false

    func validate() throws {
        guard config == nil else { throw ValidationError("--config is expanded before parsing (use `lsskd train --config FILE`)") }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard batch > 0 && batch <= 1 << 20 else { throw ValidationError("--batch must be in 1...1048576") }
        guard evalEvery > 0 else { throw ValidationError("--eval-every must be positive") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard momentum >= 0, momentum < 1 else { throw ValidationError("--momentum must be in [0, 1)") }
        guard wd >= 0, wd.isFinite else { throw ValidationError("--wd must be a finite number >= 0") }
        guard width > 0 && width <= 4096 else { throw ValidationError("--width must be in 1...4096") }
        guard trainLimit >= 0 else { throw ValidationError("--train-limit must be >= 0") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0 (0: all cores)") }
        guard diagnoseGradNorms >= 0 else { throw ValidationError("--diagnose-grad-norms must be >= 0") }
        guard divergenceFactor >= 0, divergenceFactor.isFinite else { throw ValidationError("--divergence-factor must be a finite number >= 0") }
        guard !(resume && overwrite) else { throw ValidationError("--resume and --overwrite exclude each other") }
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
        guard beta >= 0, gamma >= 0, tau > 0, beta.isFinite, gamma.isFinite, tau.isFinite else {
            throw ValidationError("--beta, --gamma must be finite numbers >= 0 and --tau a finite number > 0")
        }
        guard kdTemperature > 0, kdTemperature.isFinite else { throw ValidationError("--kd-temperature must be a finite number > 0") }
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
        guard isWarmup >= 0 else { throw ValidationError("--is-warmup must be >= 0") }
        o.lsskd.itselfSupervisedWarmupEpochs = isWarmup
        o.pskdAlphaT = alphaT
        o.smoothing = smoothing
        o.kdTemperature = kdTemperature
        guard cskdTemperature > 0, cskdLambda >= 0, cskdTemperature.isFinite, cskdLambda.isFinite else { throw ValidationError("--cskd-temperature must be > 0 and --cskd-lambda >= 0") }
        guard tfkdAlpha >= 0 && tfkdAlpha <= 1, tfkdTemperature > 0, tfkdMultiplier >= 0, tfkdTemperature.isFinite, tfkdMultiplier.isFinite else {
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

    /// Test hook: runs after each epoch's checkpoint, before its metrics line (a test throws
    /// here to stand for a crash at that moment).
    nonisolated(unsafe) static var afterCheckpointHook: ((Int) throws -> Void)?

    /// Every option of the run as canonical strings (defaults included): what `config.json`
    /// and the checkpoint record, what `--config` reads back, what `--resume` compares.
    func recordedOptions() -> [String: String] {
        var o: [String: String] = [
            "method": method, "alpha-t": "\(alphaT)", "beta": "\(beta)", "gamma": "\(gamma)", "tau": "\(tau)",
            "kl-teacher": klTeacher, "feat-reduction": featReduction, "is-warmup": "\(isWarmup)",
            "detach-branch-inputs": "\(detachBranchInputs)", "memory-precision": memoryPrecision, "smoothing": "\(smoothing)",
            "kd-temperature": "\(kdTemperature)", "cskd-temperature": "\(cskdTemperature)", "cskd-lambda": "\(cskdLambda)",
            "tfkd-alpha": "\(tfkdAlpha)", "tfkd-temperature": "\(tfkdTemperature)", "tfkd-multiplier": "\(tfkdMultiplier)",
            "data": data.description, "model": model, "width": "\(width)", "epochs": "\(epochs)", "batch": "\(batch)",
            "lr": "\(lr)", "schedule": schedule, "momentum": "\(momentum)", "nesterov": "\(nesterov)", "wd": "\(wd)",
            "train-limit": "\(trainLimit)", "image-size": "\(imageSize)", "resize": resize, "channels": "\(channels)",
            "fraction": "\(fraction)", "eval-every": "\(evalEvery)", "seed": "\(seed)", "threads": "\(threads)",
            "out": out, "divergence-factor": "\(divergenceFactor)", "diagnose-grad-norms": "\(diagnoseGradNorms)",
            "sync-bn": "\(syncBn)",
        ]
        if let t = teacher { o["teacher"] = t }
        if let v = valSplit { o["val-split"] = "\(v)" }
        if let a = augment { o["augment"] = a }
        return o
    }

    /// Replaces `--config FILE` in `args` by the file's options (a run's `config.json`,
    /// whose options sit under "options", or a recipe: {"options": {...}} or a flat object
    /// of option names to values). Options after `--config` override the file's, since the
    /// last occurrence of an option wins. `resume`, `overwrite` and `config` entries are ignored.
    static func expandConfig(_ args: [String]) throws -> [String] {
        guard let i = args.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else { return args }
        let path: String
        var rest = Array(args[(i + 1)...])
        if args[i].hasPrefix("--config=") {
            path = String(args[i].dropFirst("--config=".count))
        } else {
            guard !rest.isEmpty else { throw ValidationError("--config needs a file") }
            path = rest.removeFirst()
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--config \(path): cannot be read") }
        let file: ConfigFile
        do { file = try JSONDecoder().decode(ConfigFile.self, from: data) } catch {
            throw ValidationError("--config \(path): not a JSON object of options (\(error))")
        }
        var expanded = [String]()
        for key in file.options.keys.sorted() where !["resume", "overwrite", "config"].contains(key) {
            guard !key.hasPrefix("-"), !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw ValidationError("--config \(path): bad option name '\(key)'")
            }
            switch file.options[key]! {
            case .flag(true), .text("true"): expanded.append("--\(key)")
            case .flag(false), .text("false"): continue
            case .text(let s): expanded += ["--\(key)", s]
            }
        }
        return Array(args[..<i]) + expanded + rest
    }

    /// Started by an MPI launcher with K > 1 ranks: this process is one rank of a data-parallel
    /// run (docs/distributed.md). Any error on any rank ends the whole job at once with a
    /// message naming the rank (the other ranks would wait for it in their next collective).
    func run() throws {
        guard let k = MPIProcessGroup.launchedSize(), k > 1 else { return try train(group: nil) }
        let group: MPIProcessGroup
        do { group = try MPIProcessGroup() } catch {
            // No MPI yet: every rank prints this and exits; mpirun ends the job.
            throw CLIError("\(error)")
        }
        do {
            try train(group: group)
        } catch {
            group.abort("\(error)")
        }
        group.finalize()
    }

    func train(group: ProcessGroup?) throws {
        let isRoot = (group?.rank ?? 0) == 0
        // Only rank 0 prints (errors of any rank are printed by the abort that names it).
        func say(_ line: String, terminator: String = "\n") { if isRoot { print(line, terminator: terminator) } }
        if let group, batch % group.size != 0 {
            throw CLIError("--batch \(batch) is the global batch of the \(group.size) ranks and must be a multiple of \(group.size)")
        }
        if threads > ProcessInfo.processInfo.activeProcessorCount {
            say("warning: --threads \(threads) is more than the \(ProcessInfo.processInfo.activeProcessorCount) CPUs; using \(ProcessInfo.processInfo.activeProcessorCount)")
            Runtime.threadCount = ProcessInfo.processInfo.activeProcessorCount
        } else {
            Runtime.threadCount = threads
        }
        let folder = RunFolder(path: out)
        // Refuse early what will be refused anyway; nothing is written before the data and
        // the model are validated. Only rank 0 touches the run folder.
        if isRoot { try folder.checkUsable(resume: resume, overwrite: overwrite) }
        var record = RunRecord(options: recordedOptions(), tool: "lsskd \(LSSKDCommand.version)", data: try data.identity(),
                               cpu: RunFolder.cpuModel(), isa: "\(Runtime.isa)", created: ISO8601DateFormatter().string(from: Date()))
        var resumed: ModelArchive? = nil
        if resume {
            // Rank 0 reads the checkpoint and sends its bytes to the other ranks (which need
            // no access to the run folder).
            let archive: ModelArchive
            if let group {
                var bytes = [UInt8]()
                if isRoot {
                    // A file that cannot be read still throws the reader's own error.
                    _ = try ModelArchive.read(from: folder.checkpoint.path)
                    bytes = [UInt8](try Data(contentsOf: folder.checkpoint))
                }
                bytes = try group.broadcast(bytes, root: 0)
                archive = try ModelArchive(TensorArchive.decode(Data(bytes), path: folder.checkpoint.path), file: folder.checkpoint.path)
            } else {
                archive = try ModelArchive.read(from: folder.checkpoint.path)
            }
            if let saved = archive.runRecord {
                let differences = saved.resultDifferences(to: record, defaults: (try? TrainCommand.parse([]))?.recordedOptions() ?? [:])
                guard differences.isEmpty else {
                    throw CLIError("--resume: this command differs from the run in \(out) in what changes the result:\n  "
                                   + differences.joined(separator: "\n  ")
                                   + "\nRun it with the recorded options (lsskd train --config \(folder.config.path) --resume) or start a new run in another --out.")
                }
                record.created = saved.created
            } else {
                say("warning: \(folder.checkpoint.path) predates run records (format \(archive.fileVersion)); its options cannot be checked against this command")
            }
            resumed = archive
        }

        let folderOptions = DataSpec.FolderOptions(imageSize: imageSize, channels: channels == 0 ? nil : channels,
                                                   filter: ResizeFilter(rawValue: resize) ?? .area)
        var trainSet = try data.load(train: true, folder: folderOptions)
        guard trainSet.count > 0 else { throw CLIError("\(data): the training split holds no images") }
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
            if valSplit == nil { say("data: \(data) has no test split; holding out --val-split \(v) of the training images") }
            (trainSet, testSet) = trainSet.stratifiedSplit(holdOut: v, seed: seed)
        } else {
            var options = folderOptions
            options.channels = trainSet.channels
            testSet = try data.load(train: false, folder: options)
        }
        if fraction < 1 { trainSet = trainSet.stratifiedFraction(fraction, seed: seed) }
        guard trainSet.count >= batch else {
            throw CLIError("--batch \(batch) is larger than the \(trainSet.count) training images: no full batch, nothing would be trained")
        }
        guard testSet.count > 0 else { throw CLIError("\(data): the \(evalName) split holds no images") }
        let augmentation = augment.flatMap { Augmentation(named: $0) }
            ?? Augmentation.defaultFor(channels: trainSet.channels, height: trainSet.height, width: trainSet.width)
        let norm = ChannelNormalization(statisticsOf: trainSet)
        say("data: \(data), \(trainSet.count) train / \(testSet.count) \(evalName) images of \(trainSet.channels)x\(trainSet.height)x\(trainSet.width), \(trainSet.classCount) classes; augmentation \(augmentation)")

        var rng = RNG(seed: seed)
        let net = try ModelChoice.make(model, width: width, inChannels: trainSet.channels, classes: trainSet.classCount,
                                       rng: &rng)
        say("model: \(model), \(net.parameterCount) parameters; kernels: \(Runtime.isa), \(Runtime.threadCount) threads")
        let (kind, methodDefaults) = try methodOptions()
        var options = methodDefaults
        if kind == .kd, let path = teacher {
            let t = try ModelFile(path: path)
            guard t.classes == trainSet.classCount, t.inChannels == trainSet.channels else {
                throw CLIError("\(path): a model of \(t.classes) classes on \(t.inChannels)-channel images, this data has \(trainSet.classCount) and \(trainSet.channels)")
            }
            options.teacher = t.model
            say("teacher: \(t.name) from \(path), \(t.model.parameterCount) parameters")
        }
        if kind.usesRotations && trainSet.height != trainSet.width {
            throw CLIError("--method \(kind.rawValue) rotates images and needs square ones, not \(trainSet.height)x\(trainSet.width)")
        }
        let trainLoader = BatchLoader(dataset: trainSet, batchSize: batch, normalization: norm, shuffle: true,
                                      dropLast: true, seed: seed, augmentation: augmentation)
        if kind == .cskd { options.classPartners = ClassPartners(loader: trainLoader) }
        let trainingMethod: TrainingMethod
        do {
            trainingMethod = try kind.make(model: net, classes: trainSet.classCount, sampleIndices: trainSet.originalIndices,
                                           options: options, rng: &rng)
        } catch { throw CLIError("\(error)") }
        var methodLine = "method: \(kind.rawValue)"
        if let aux = trainingMethod.auxiliary { methodLine += ", auxiliary branches \(aux.parameterCount) parameters (training only)" }
        if !trainingMethod.summary.isEmpty { methodLine += ", " + trainingMethod.summary }
        say(methodLine)

        let testLoader = BatchLoader(dataset: testSet, batchSize: 256, normalization: norm, shuffle: false,
                                     dropLast: false, seed: 0)
        let config = TrainConfig(epochs: epochs, schedule: try parseSchedule(), momentum: momentum,
                                 nesterov: nesterov, weightDecay: wd)
        let trainer = try ClassifierTrainer(model: net, method: trainingMethod, train: trainLoader, test: isRoot ? testLoader : nil,
                                            config: config, metricsURL: isRoot ? folder.metrics : nil)
        trainer.checkpointPath = isRoot ? folder.checkpoint.path : nil
        if let group {
            try trainer.enableDataParallel(group: group, syncBatchNorm: syncBn)
            let version = (group as? MPIProcessGroup)?.libraryVersion ?? "MPI"
            say("data-parallel: \(group.size) ranks (\(version)), global batch \(batch) = \(group.size) x \(batch / group.size), batch norm \(syncBn ? "synchronised over ranks" : "per rank")")
        } else if syncBn {
            say("note: --sync-bn has no effect in a single process")
        }
        trainer.evalSetName = evalName
        trainer.evalEvery = evalEvery
        trainer.divergenceFactor = divergenceFactor
        trainer.afterCheckpoint = Self.afterCheckpointHook
        trainer.diagnoseEvery = diagnoseGradNorms
        trainer.methodSummary = methodLine
        trainer.modelDescription = ModelDescription(
            model: model, width: width, inChannels: trainSet.channels, classes: trainSet.classCount, imageSize: trainSet.height,
            normMean: norm.mean, normStd: norm.std, resizeFilter: data.kind == .folder ? resize : nil,
            classNames: trainSet.classNames, data: data.description, method: kind.rawValue)

        let lock = isRoot ? try folder.lock() : nil
        defer { withExtendedLifetime(lock) {} }
        if let archive = resumed {
            try trainer.resume(from: archive, file: folder.checkpoint.path)
            if isRoot {
                if archive.history == nil { trainer.setHistory(try folder.recoverHistory(epochsDone: archive.epochsDone)) }
                try folder.rewriteMetrics(trainer.history)
                folder.removeStaleTemporaries()
            }
            say("resumed from \(folder.checkpoint.path) after epoch \(trainer.startEpoch)")
        } else if isRoot {
            try folder.prepareNewRun(overwrite: overwrite)
        }
        trainer.runRecord = record
        if isRoot { try folder.writeConfig(record) }
        if isRoot, let tb = folder.startTensorBoard(history: trainer.history) {
            var failed = false
            trainer.epochObserver = { m in
                guard !failed else { return }
                do { try tb.add(m, wallTime: Date().timeIntervalSince1970) } catch {
                    failed = true
                    say("warning: TensorBoard events stopped: \(error)")
                }
            }
        }

        let onTerminal = isatty(STDOUT_FILENO) != 0 && group == nil
        trainer.progressInterval = onTerminal ? 0.5 : 10
        let history = try trainer.run(reporting: { report in
            switch report {
            case .progress(let line) where onTerminal: say("\r\u{1B}[K" + line, terminator: "")
            case .progress(let line): say(line)
            case .epoch(let line): say(onTerminal ? "\r\u{1B}[K" + line : line)
            }
            fflush(stdout)
        })
        if let last = history.last, let t = last.test {
            say(String(format: "final: \(evalName) top-1 %.2f%%, top-5 %.2f%%, %.0f train images/s; metrics in %@",
                         100 * t.top1, 100 * t.top5, last.imagesPerSecond, folder.metrics.path))
        } else if history.isEmpty {
            say("nothing left to train: the checkpoint holds all \(epochs) epochs")
        }
    }
}

/// A `--config` file: a run's `config.json` (options under "options", with the run's other
/// records beside them) or a recipe (an "options" object, or a flat object of options).
struct ConfigFile: Decodable {
    enum Value: Decodable {
        case flag(Bool)
        case text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) }
            else if let i = try? c.decode(Int.self) { self = .text("\(i)") }
            else if let d = try? c.decode(Double.self) { self = .text("\(d)") }
            else { self = .text(try c.decode(String.self)) }
        }
    }
    var options: [String: Value]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if c.contains(Key(stringValue: "options")) {
            options = try c.decode([String: Value].self, forKey: Key(stringValue: "options"))
        } else {
            var o = [String: Value]()
            for k in c.allKeys where k.stringValue != "description" && k.stringValue != "comment" {
                o[k.stringValue] = try c.decode(Value.self, forKey: k)
            }
            options = o
        }
    }
}
