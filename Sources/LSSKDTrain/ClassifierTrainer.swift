import Foundation
import LSSKDData
import LSSKDNN
import LSSKDTensor

/// Hyper-parameters of plain supervised training.
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
    public var trainLoss: Double
    public var trainTop1: Double
    /// Result on the evaluation split (the test set, or the held-out val split: see `evalSet`).
    public var test: EvalResult?
    /// "test" or "val".
    public var evalSet: String
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// Training stopped because the loss stopped being a number.
public struct NonFiniteLossError: Error, CustomStringConvertible {
    public let epoch: Int
    public let batch: Int
    public let value: Float
    public var description: String {
        "training diverged: loss is \(value) at epoch \(epoch), batch \(batch) (try a lower --lr)"
    }
}

/// Plain cross-entropy training of a classifier with SGD: the loop the distillation
/// methods build on.
public final class ClassifierTrainer {
    public let model: Module
    public let train: BatchLoader
    public let test: BatchLoader?
    public let config: TrainConfig
    public let optimizer: SGD
    /// Where epoch metrics are appended as JSON lines (nil: not written).
    public let metricsURL: URL?
    /// Stored in every checkpoint (model name, input shape, normalisation…) so that
    /// `lsskd eval` can rebuild the model from the checkpoint alone.
    public var checkpointMetadata: [String: String] = [:]
    /// Seconds between progress reports within an epoch (a terminal wants ~0.5 s, a log 10 s).
    public var progressInterval: Double = 10
    /// Name of the evaluation split in logs and metrics: "test" or "val".
    public var evalSetName = "test"
    /// Where a checkpoint is written (atomically) after every epoch (nil: not written).
    public var checkpointPath: String?
    /// Epochs already done (set by ``resume(from:)``); training continues from here.
    public private(set) var startEpoch = 0

    public init(model: Module, train: BatchLoader, test: BatchLoader?, config: TrainConfig, metricsURL: URL?) throws {
        self.model = model
        self.train = train
        self.test = test
        self.config = config
        self.metricsURL = metricsURL
        optimizer = try SGD(model, learningRate: config.schedule.learningRate(epoch: 0), momentum: config.momentum,
                            nesterov: config.nesterov, weightDecay: config.weightDecay)
    }

    /// Cross-entropy against the batch's labels; for a CutMix batch against the mixed
    /// target lambda*onehot(labels) + (1-lambda)*onehot(labelsB), which has the same value
    /// and gradient as lambda*CE(labels) + (1-lambda)*CE(labelsB) in one kernel call.
    func classificationLoss(_ logits: Variable, _ batch: Batch) throws -> Variable {
        guard let labelsB = batch.labelsB else { return try crossEntropy(logits: logits, labels: batch.labels) }
        let classes = logits.shape[1]
        var target = try Tensor.oneHot(batch.labels, classes: classes)
        try Kernels.scale(&target, by: batch.lambda)
        try Kernels.axpy(&target, try Tensor.oneHot(labelsB, classes: classes), alpha: 1 - batch.lambda)
        return try softmaxCrossEntropy(logits: logits, targets: target)
    }

    /// Continues from a checkpoint written by this trainer's configuration.
    public func resume(from path: String) throws {
        startEpoch = try Checkpoint.restore(from: path, model: model, optimizer: optimizer).epochsDone
    }

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
        var history = [EpochMetrics]()
        let steps = train.batchesPerEpoch
        for epoch in startEpoch..<config.epochs {
            model.train()
            let start = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            var lastReport = start
            var lr: Float = 0
            try train.forEachBatch(epoch: epoch) { b, batch in
                lr = config.schedule.learningRate(epoch: epoch, step: b, stepsPerEpoch: steps)
                optimizer.learningRate = lr
                model.zeroGrad()
                let logits = try model(Variable(batch.images))
                let loss = try classificationLoss(logits, batch)
                let value = loss.value.scalar
                guard value.isFinite else { throw NonFiniteLossError(epoch: epoch, batch: b, value: value) }
                try loss.backward()
                try optimizer.step()
                lossSum += Double(value) * Double(batch.labels.count)
                correct += topKCorrect(logits.value, labels: batch.labels).top1
                seen += batch.labels.count
                let now = Date()
                if now.timeIntervalSince(lastReport) > progressInterval || b + 1 == steps {
                    lastReport = now
                    let rate = Double(seen) / now.timeIntervalSince(start)
                    let eta = Double(steps - b - 1) * Double(train.batchSize) / max(rate, 1e-9)
                    report(.progress(String(format: "epoch %d  batch %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  eta %.0fs",
                                  epoch + 1, b + 1, steps, lossSum / Double(seen), 100 * Double(correct) / Double(seen), rate, eta)))
                }
            }
            let seconds = Date().timeIntervalSince(start)
            let testResult = try test.map { try evaluate(model, on: $0) }
            let m = EpochMetrics(epoch: epoch, learningRate: lr, trainLoss: lossSum / Double(max(seen, 1)),
                                 trainTop1: Double(correct) / Double(max(seen, 1)), test: testResult, evalSet: evalSetName,
                                 seconds: seconds, imagesPerSecond: Double(seen) / seconds)
            history.append(m)
            try appendMetrics(m)
            if let path = checkpointPath {
                try Checkpoint.save(to: path, model: model, optimizer: optimizer, epochsDone: epoch + 1,
                                    metadata: checkpointMetadata)
            }
            var line = String(format: "epoch %d done in %.1fs: train loss %.4f, train top-1 %.2f%%",
                              epoch + 1, seconds, m.trainLoss, 100 * m.trainTop1)
            if let t = testResult {
                line += String(format: ", %@ top-1 %.2f%%, top-5 %.2f%%", evalSetName, 100 * t.top1, 100 * t.top5)
            }
            report(.epoch(line))
        }
        return history
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
