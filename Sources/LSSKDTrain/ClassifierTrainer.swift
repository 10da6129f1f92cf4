import Foundation
import LSSKDData
import LSSKDNN
import LSSKDTensor

// MARK: - Trainer

/// Hyper-parameters of supervised training.
public struct TrainConfig: Sendable {
    public var epochs: Int
    public var schedule: LRSchedule
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float

    public init(epochs: Int, schedule: LRSchedule, momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 5e-4) {
        self.epochs = epochs
        self.schedule = schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }
}

/// What one epoch measured; written as one JSON line per epoch to `metrics.jsonl`.
public struct EpochMetrics: Codable, Sendable {
    public var epoch: Int
    public var learningRate: Float
    /// Epoch mean of the total loss (the sum of the method's terms).
    public var trainLoss: Double
    public var trainTop1: Double
    /// Epoch mean of each named loss term of the method (weighted as summed), e.g.
    /// `{"ce": …, "sad": …, "kl": …, "feat": …}`.
    public var terms: [String: Double]?
    /// The training method (`ce`, `lsskd`…).
    public var method: String?
    /// Result on the evaluation split (the test set, or the held-out val split: see `evalSet`).
    public var test: EvalResult?
    /// Top-1 of the method's auxiliary classifiers on the same split (LSSKD's branches), if any.
    public var auxiliaryTop1: [String: Double]?
    /// "test" or "val".
    public var evalSet: String
    public var seconds: Double
    public var imagesPerSecond: Double
    /// Seconds spent evaluating after the epoch (0 when the epoch was not evaluated).
    public var evalSeconds: Double?
    /// Mean L2 norm of the gradient each loss term sends into each probe of the method,
    /// keyed `"term>probe"` (e.g. `"feat>stage2"`), over the diagnosed steps of the epoch
    /// (``ClassifierTrainer/diagnoseEvery``); nil when not measured.
    public var gradientNorms: [String: Double]?
    /// Data-parallel training: the number of ranks, and rank 0's seconds in the gradient
    /// all-reduce during the epoch (nil for one process).
    public var ranks: Int?
    public var allreduceSeconds: Double?
}

/// Training stopped because the loss stopped being a number, or exploded.
public struct NonFiniteLossError: Error, CustomStringConvertible {
    public let epoch: Int
    public let batch: Int
    public let value: Float
    public var term: String? = nil
    /// The reference loss and factor when a finite loss exploded.
    public var exploding: Double? = nil
    public var factor: Double = 0

    public init(epoch: Int, batch: Int, value: Float, term: String? = nil, exploding: Double? = nil, factor: Double = 0) {
        self.epoch = epoch
        self.batch = batch
        self.value = value
        self.term = term
        self.exploding = exploding
        self.factor = factor
    }

    public var description: String {
        if let r = exploding {
            return String(format: "training diverged: loss %.4g at epoch %d, batch %d is more than %.0g times the first loss (%.4g); nothing of this epoch was saved (try a lower --lr; --divergence-factor 0 disables the check)",
                          Double(value), epoch + 1, batch + 1, factor, r)
        }
        return "training diverged: loss is \(value)\(term.map { " (term \($0))" } ?? "") at epoch \(epoch + 1), batch \(batch + 1); nothing of this epoch was saved (try a lower --lr)"
    }
}

/// A training run that cannot go on (nothing to train on, a zero-image epoch…).
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A checkpoint that does not belong to this run.
public struct CheckpointError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public init(_ file: String, _ reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "\(file): \(reason)" }
}

/// Method-agnostic SGD training of a classifier: each step asks the ``TrainingMethod``
/// (cross-entropy by default) for logits and named loss terms, minimises their sum, and
/// logs each term's epoch mean.
public final class ClassifierTrainer {
    public let model: Module
    public let method: TrainingMethod
    public let train: BatchLoader
    public let test: BatchLoader?
    public let config: TrainConfig
    public let optimizer: SGD
    /// Where epoch metrics are appended as JSON lines (nil: not written).
    public let metricsURL: URL?
    /// What rebuilds the model (architecture, input, normalisation…), stored in every
    /// checkpoint so that `lsskd eval` needs nothing else. Required when ``checkpointPath`` is set.
    public var modelDescription: ModelDescription?
    /// The run's options, stored in every checkpoint (``RunRecord``).
    public var runRecord: RunRecord?
    /// The method's one-line summary, stored in checkpoints.
    public var methodSummary: String?
    /// Seconds between progress reports within an epoch (a terminal wants ~0.5 s, a log 10 s).
    public var progressInterval: Double = 10
    /// Name of the evaluation split in logs and metrics: "test" or "val".
    public var evalSetName = "test"
    /// Where a checkpoint is written (atomically) after every epoch (nil: not written).
    public var checkpointPath: String?
    /// Evaluate every `evalEvery` epochs (and always after the last one); 1: every epoch.
    /// Evaluation reads nothing the training uses, so this changes no weight.
    public var evalEvery = 1
    /// A batch loss above `divergenceFactor` times the run's first-batch loss (or, after a
    /// resume, its first epoch's mean) stops training as diverged before anything is saved;
    /// 0 disables the check (non-finite losses always stop it).
    public var divergenceFactor: Double = 1e4
    /// Every `diagnoseEvery` steps (0: never) the gradient each loss term sends into each of
    /// the method's probes is measured with one extra backward pass per term (retained
    /// graph, gradients reset afterwards: the trained weights do not change — tested).
    public var diagnoseEvery = 0
    /// Called after an epoch's checkpoint is written and before its metrics line is
    /// appended (tests inject a crash there).
    public var afterCheckpoint: ((Int) throws -> Void)?
    /// Called with each finished epoch's metrics after its checkpoint and metrics line
    /// (TensorBoard events).
    public var epochObserver: ((EpochMetrics) -> Void)?
    /// The metrics of every finished epoch (restored by ``resume(from:)``); checkpoints hold
    /// them, and `metrics.jsonl` is rewritten from them on resume.
    public private(set) var history: [EpochMetrics] = []
    /// Epochs already done (set by ``resume(from:)``); training continues from here.
    public private(set) var startEpoch = 0
    /// Data-parallel training over a ``ProcessGroup`` (``enableDataParallel(group:syncBatchNorm:)``);
    /// nil: one process.
    public private(set) var dataParallel: DataParallel?

    /// - Parameter method: the training method (default: plain cross-entropy). Its
    ///   auxiliary modules' parameters join the optimiser after the model's, named `aux.<name>`.
    public init(model: Module, method: TrainingMethod = CrossEntropyMethod(), train: BatchLoader, test: BatchLoader?,
                config: TrainConfig, metricsURL: URL?) throws {
        self.model = model
        self.method = method
        self.train = train
        self.test = test
        self.config = config
        self.metricsURL = metricsURL
        var parameters = model.namedParameters()
        if let aux = method.auxiliary { parameters += aux.namedParameters().map { ("aux." + $0.0, $0.1) } }
        optimizer = try SGD(parameters: parameters, learningRate: config.schedule.learningRate(epoch: 0),
                            momentum: config.momentum, nesterov: config.nesterov, weightDecay: config.weightDecay)
    }

    /// Makes this trainer one rank of a data-parallel run over `group` (see ``DataParallel``):
    /// it trains on its share of every global batch of `train.batchSize` rows, which must
    /// divide into `group.size` shares of equal size, and only rank 0 evaluates, writes the
    /// checkpoint and the metrics (the caller gives the other ranks no paths).
    public func enableDataParallel(group: ProcessGroup, syncBatchNorm: Bool) throws {
        guard train.batchSize % group.size == 0, train.dropLast else {
            throw TrainingError("--batch \(train.batchSize) (the global batch) does not split into \(group.size) equal shares: use a multiple of the number of ranks")
        }
        var buffers = model.namedBuffers().map(\.1)
        if let aux = method.auxiliary { buffers += aux.namedBuffers().map(\.1) }
        dataParallel = DataParallel(group: group, syncBatchNorm: syncBatchNorm, parameters: optimizer.parameters.map(\.1),
                                    buffers: buffers, memories: method.replicatedMemories, maxBatch: train.batchSize)
        train.shard = BatchShard(rank: group.rank, size: group.size)
    }

    /// Cross-entropy (with CutMix mixing) of the default method; see ``CrossEntropyMethod``.
    func classificationLoss(_ logits: Variable, _ batch: Batch) throws -> Variable {
        try CrossEntropyMethod().loss(logits, batch)
    }

    // MARK: Checkpoints

    /// Writes the training state: `model.*`, `optim.*`, the method's auxiliary modules
    /// (`aux.*`) and state (`method.*`), the run record and the metrics history.
    public func saveCheckpoint(to path: String, epochsDone: Int) throws {
        guard var description = modelDescription else {
            throw ArchiveError(path, "no model description set: the checkpoint could not be evaluated on its own")
        }
        description.method = method.name
        var archive = ModelArchive(kind: .checkpoint, description: description, epochsDone: epochsDone)
        archive.runRecord = runRecord
        archive.methodSummary = methodSummary
        // A format-1 run whose metrics could not all be recovered keeps no history.
        archive.history = history.count >= epochsDone ? Array(history.prefix(epochsDone)) : nil
        for (name, t) in model.stateDict() { archive.set(.model, name, t) }
        for (name, t) in optimizer.stateDict() { archive.set(.optim, name, t) }
        if let aux = method.auxiliary { for (name, t) in aux.stateDict() { archive.set(.aux, name, t) } }
        for (name, t) in method.stateDict() { archive.set(.method, name, t) }
        try archive.write(to: path)
    }

    /// Continues from a checkpoint written by this trainer's configuration (same model
    /// and method). Names and sizes must match exactly; each part (model, auxiliary
    /// modules, optimiser, method state) is checked before it is modified.
    public func resume(from path: String) throws {
        try resume(from: try ModelArchive.read(from: path), file: path)
    }

    public func resume(from archive: ModelArchive, file path: String) throws {
        guard archive.kind == .checkpoint else {
            throw CheckpointError(path, "not a training checkpoint (an exported model cannot be resumed)")
        }
        guard archive.description.method == method.name else {
            throw CheckpointError(path, "was trained with --method \(archive.description.method), not \(method.name)")
        }
        guard archive.epochsDone <= config.epochs else {
            throw CheckpointError(path, "holds \(archive.epochsDone) epochs, more than this run's \(config.epochs)")
        }
        do {
            let aux = method.auxiliary
            if aux == nil, !archive.state(.aux).isEmpty {
                throw CheckpointError(path, "has auxiliary modules, method \(method.name) has none")
            }
            try model.loadStateDict(archive.state(.model))
            try aux?.loadStateDict(archive.state(.aux))
            try optimizer.loadStateDict(archive.state(.optim))
            try method.loadStateDict(archive.state(.method))
        } catch let e as CheckpointError {
            throw e
        } catch {
            throw CheckpointError(path, "does not fit this model: \(error)")
        }
        startEpoch = archive.epochsDone
        history = archive.history ?? []
    }

    /// Replaces the restored history (a format-1 checkpoint has none: the caller recovers
    /// it from `metrics.jsonl`).
    public func setHistory(_ h: [EpochMetrics]) { history = h }

    // MARK: Training loop

    /// What `run` reports: in-epoch progress (replaceable on a terminal) or an epoch summary.
    public enum Report {
        case progress(String)
        case epoch(String)
        public var text: String {
            switch self { case .progress(let s), .epoch(let s): return s }
        }
    }

    /// Trains every remaining epoch, reporting progress lines through `report`.
    @discardableResult
    public func run(report: (String) -> Void) throws -> [EpochMetrics] {
        try run(reporting: { report($0.text) })
    }

    /// Trains every remaining epoch, reporting through `reporting`.
    @discardableResult
    public func run(reporting report: (Report) -> Void) throws -> [EpochMetrics] {
        var ran = [EpochMetrics]()
        let steps = train.batchesPerEpoch
        guard steps > 0 else {
            throw TrainingError("nothing to train: \(train.dataset.count) training images make no full batch of \(train.batchSize)")
        }
        // The divergence reference: the first epoch's mean loss, or this run's first batch.
        var reference: Double? = history.first.map { abs($0.trainLoss) }
        let dp = dataParallel
        // Every rank starts from rank 0's weights (a resumed or freshly drawn model).
        try dp?.broadcastState()
        BatchNormSync.group = dp?.syncBatchNorm == true ? dp?.group : nil
        defer { BatchNormSync.group = nil }
        let isRoot = dp?.isRoot ?? true
        for epoch in startEpoch..<config.epochs {
            model.train()
            method.auxiliary?.train()
            try method.beginEpoch(epoch, epochs: config.epochs)
            let start = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            var normSums = [String: Double](), diagnosed = 0
            var termNames = [String](), termSums = [String: Double]()
            var lastReport = start
            var lr: Float = 0
            try train.forEachBatch(epoch: epoch) { b, batch in
                lr = config.schedule.learningRate(epoch: epoch, step: b, stepsPerEpoch: steps)
                optimizer.learningRate = lr
                optimizer.zeroGrad()
                // Rows of the global batch b (a data-parallel rank holds its share of them).
                let globalRows = min(train.batchSize, train.dataset.count - b * train.batchSize)
                let out = try method.step(model: model, batch: batch, epoch: epoch, epochs: config.epochs)
                guard !out.terms.isEmpty else { throw NonFiniteLossError(epoch: epoch, batch: b, value: .nan, term: "(none)") }
                let n = Double(batch.labels.count)
                for (name, v) in out.terms {
                    let x = v.value.scalar
                    guard x.isFinite else { throw NonFiniteLossError(epoch: epoch, batch: b, value: x, term: name) }
                    if termSums[name] == nil { termNames.append(name) }
                    termSums[name, default: 0] += Double(x) * n
                }
                // One term is minimised as is (the plain trainer's graph, bit for bit).
                let loss = out.terms.count == 1 ? out.terms[0].value : try sum(out.terms.map(\.value))
                let value = loss.value.scalar
                guard value.isFinite else { throw NonFiniteLossError(epoch: epoch, batch: b, value: value) }
                if diagnoseEvery > 0 && b % diagnoseEvery == 0 && !out.probes.isEmpty {
                    try measureGradientNorms(out, total: loss, into: &normSums)
                    diagnosed += 1
                }
                if reference == nil { reference = abs(Double(value)) }
                if divergenceFactor > 0, let r = reference, abs(Double(value)) > divergenceFactor * max(r, 1e-3) {
                    throw NonFiniteLossError(epoch: epoch, batch: b, value: value, exploding: r, factor: divergenceFactor)
                }
                if let dp {
                    // This share's mean loss weighted by its part of the global batch: the
                    // ranks' gradients then sum to the gradient of the global mean.
                    try (loss * (Float(batch.labels.count) / Float(globalRows))).backward()
                    try dp.allreduceGradients()
                } else {
                    try loss.backward()
                }
                try optimizer.step()
                try dp?.replicateMemories(share: batch, globalRows: globalRows)
                lossSum += Double(value) * n
                correct += topKCorrect(out.logits, labels: batch.labels).top1
                seen += batch.labels.count
                let now = Date()
                if now.timeIntervalSince(lastReport) > progressInterval || b + 1 == steps {
                    lastReport = now
                    let rate = Double(seen * (dp?.size ?? 1)) / now.timeIntervalSince(start)
                    let eta = Double(steps - b - 1) * Double(train.batchSize) / max(rate, 1e-9)
                    var line = String(format: "epoch %d  batch %d/%d  loss %.4f", epoch + 1, b + 1, steps, lossSum / Double(seen))
                    if termNames.count > 1 {
                        line += " (" + termNames.map { String(format: "%@ %.4f", $0, termSums[$0]! / Double(seen)) }.joined(separator: ", ") + ")"
                    }
                    line += String(format: "  acc %.2f%%  %.0f img/s  eta %.0fs", 100 * Double(correct) / Double(seen), rate, eta)
                    report(.progress(line))
                }
            }
            guard seen > 0 else { throw TrainingError("epoch \(epoch + 1) trained on 0 images") }
            try method.endEpoch(epoch, epochs: config.epochs)
            var reduceSeconds: Double? = nil
            if let dp {
                // Epoch totals over all ranks (every rank has the same term names, in order).
                var totals = [lossSum, Double(correct), Double(seen)] + termNames.map { termSums[$0]! }
                try dp.sum(&totals)
                lossSum = totals[0]
                correct = Int(totals[1].rounded())
                seen = Int(totals[2].rounded())
                for (i, name) in termNames.enumerated() { termSums[name] = totals[3 + i] }
                if !dp.syncBatchNorm { try dp.averageBuffers() }
                try dp.broadcastState()
                reduceSeconds = dp.takeReduceSeconds()
            }
            let seconds = Date().timeIntervalSince(start)
            let evaluating = isRoot && ((epoch + 1) % max(evalEvery, 1) == 0 || epoch + 1 == config.epochs)
            let evalStart = Date()
            let testResult = evaluating ? try test.map { try evaluate(model, on: $0) } : nil
            let auxTop1 = evaluating ? (try test.map { try method.evaluateAuxiliary(model: model, on: $0) } ?? [:]) : [:]
            let evalSeconds = Date().timeIntervalSince(evalStart)
            let denom = Double(max(seen, 1))
            let termMeans = termSums.mapValues { $0 / denom }
            let m = EpochMetrics(epoch: epoch, learningRate: lr, trainLoss: lossSum / denom,
                                 trainTop1: Double(correct) / denom, terms: termMeans, method: method.name,
                                 test: testResult, auxiliaryTop1: auxTop1.isEmpty ? nil : auxTop1, evalSet: evalSetName,
                                 seconds: seconds, imagesPerSecond: Double(seen) / seconds,
                                 evalSeconds: testResult == nil ? 0 : evalSeconds,
                                 gradientNorms: diagnosed > 0 ? normSums.mapValues { $0 / Double(diagnosed) } : nil,
                                 ranks: dp?.size, allreduceSeconds: reduceSeconds)
            // One epoch commit: the checkpoint (holding the history with this epoch) first,
            // then the metrics line; a crash in between leaves a line missing, which resume
            // restores from the checkpoint — never a line for an epoch the checkpoint lacks.
            history.append(m)
            ran.append(m)
            if let path = checkpointPath { try saveCheckpoint(to: path, epochsDone: epoch + 1) }
            try afterCheckpoint?(epoch)
            try appendMetrics(m)
            epochObserver?(m)
            if epoch == 0 && termNames.count > 1 {
                // First-epoch magnitudes: a term that dominates the sum shows at once.
                let total = termNames.reduce(0.0) { $0 + abs(termMeans[$1]!) }
                report(.epoch("loss terms in epoch 1 (mean, share of the sum of magnitudes): " + termNames.map {
                    String(format: "%@ %.4f (%.0f%%)", $0, termMeans[$0]!, 100 * abs(termMeans[$0]!) / max(total, 1e-12))
                }.joined(separator: ", ")))
            }
            var line = String(format: "epoch %d done in %.1fs: train loss %.4f", epoch + 1, seconds, m.trainLoss)
            if termNames.count > 1 {
                line += " (" + termNames.map { String(format: "%@ %.4f", $0, termMeans[$0]!) }.joined(separator: ", ") + ")"
            }
            line += String(format: ", train top-1 %.2f%%", 100 * m.trainTop1)
            if let t = testResult {
                line += String(format: ", %@ top-1 %.2f%%, top-5 %.2f%%, ECE %.4f", evalSetName, 100 * t.top1, 100 * t.top5,
                               t.ece)
            }
            if !auxTop1.isEmpty {
                line += " (" + auxTop1.keys.sorted().map { String(format: "%@ %.2f%%", $0, 100 * auxTop1[$0]!) }.joined(separator: ", ") + ")"
            }
            report(.epoch(line))
        }
        return ran
    }

    /// One backward per term with the graph retained; adds each probe's gradient L2 norm to
    /// `sums["term>probe"]`, then marks every gradient of the graph stale again.
    private func measureGradientNorms(_ out: StepOutput, total: Variable, into sums: inout [String: Double]) throws {
        for (term, v) in out.terms where v.requiresGrad {
            for (_, p) in out.probes { p.zeroGrad() }
            try v.backward(retainGraph: true)
            for (probe, p) in out.probes {
                let norm = p.grad.map { g in g.withUnsafeBufferPointer { b in sqrt(b.reduce(0.0) { $0 + Double($1) * Double($1) }) } } ?? 0
                sums["\(term)>\(probe)", default: 0] += norm
            }
            total.zeroGradGraph()
        }
    }

    private func appendMetrics(_ m: EpochMetrics) throws {
        guard let url = metricsURL else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(m)
        data.append(0x0A)
        if let handle = try? FileHandle(forWritingTo: url) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } else {
            try data.write(to: url)
        }
    }
}

/// A training method that cannot work with what it was given (a model without stages, a
/// batch form it does not support…); `method` names it.
public struct MethodError: Error, CustomStringConvertible {
    public let method: String
    public let reason: String
    public init(_ method: String, _ reason: String) {
        self.method = method
        self.reason = reason
    }
    public var description: String { "\(method): \(reason)" }
}
