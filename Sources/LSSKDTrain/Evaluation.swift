import LSSKDData
import LSSKDNN
import LSSKDTensor

/// Accuracy and loss of a classifier on a dataset split (evaluation mode, no graph).
public struct EvalResult: Codable, Sendable {
    public var top1: Double
    public var top5: Double
    public var loss: Double
    public var count: Int
    /// Expected calibration error (15 bins by default) of the softmax probabilities.
    public var ece: Double
}

/// Runs `model` in evaluation mode over every batch of `loader` (in order) and restores
/// the module's previous mode afterwards. ECE uses `bins` equal-width confidence bins.
public func evaluate(_ model: Module, on loader: BatchLoader, bins: Int = 15) throws -> EvalResult {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    return try Autograd.withNoGrad {
        try evaluate(on: loader, bins: bins) { try model(Variable($0.images)).value }
    }
}

/// Accuracy, loss and calibration of the logits `[B, classes]` that `logits` computes for each
/// batch of `loader` (in order): any engine (the Swift modules, the C runtime).
public func evaluate(on loader: BatchLoader, bins: Int = 15, logits: (Batch) throws -> Tensor) throws -> EvalResult {
    var correct1 = 0, correct5 = 0, seen = 0
    var lossSum = 0.0
    var calibration = CalibrationBins(bins: bins)
    try loader.forEachBatch(epoch: 0) { _, batch in
        let out = try logits(batch)
        let loss = try crossEntropy(logits: Variable(out), labels: batch.labels)
        lossSum += Double(loss.value.scalar) * Double(batch.labels.count)
        let (c1, c5) = topKCorrect(out, labels: batch.labels)
        correct1 += c1
        correct5 += c5
        seen += batch.labels.count
        calibration.add(probabilities: try softmax(out), labels: batch.labels)
    }
    let n = Double(max(seen, 1))
    return EvalResult(top1: Double(correct1) / n, top5: Double(correct5) / n, loss: lossSum / n, count: seen,
                      ece: calibration.ece)
}

/// Number of rows whose label is the top-1 and among the top-5 entries of `logits` `[N, classes]`.
public func topKCorrect(_ logits: Tensor, labels: [Int]) -> (top1: Int, top5: Int) {
    let classes = logits.shape[1]
    var c1 = 0, c5 = 0
    logits.withUnsafeBufferPointer { p in
        for (r, y) in labels.enumerated() {
            let row = p.baseAddress! + r * classes
            let target = row[y]
            // Rank of the label: entries strictly greater, plus equal ones before it (first wins ties).
            var rank = 0
            for c in 0..<classes where row[c] > target || (row[c] == target && c < y) { rank += 1 }
            if rank == 0 { c1 += 1 }
            if rank < 5 { c5 += 1 }
        }
    }
    return (c1, c5)
}

/// Expected calibration error over equal-width confidence bins (Guo et al. 2017; 15 bins
/// is the usual choice): `sum_b |B_b| / n * |acc(B_b) - conf(B_b)|`, where a sample's
/// confidence is its top softmax probability and bin b (1-based) holds confidences in
/// `((b-1)/bins, b/bins]`. Accumulates over batches.
public struct CalibrationBins: Sendable {
    public let bins: Int
    public private(set) var count: [Int]
    public private(set) var correct: [Int]
    public private(set) var confidence: [Double]
    public private(set) var total = 0

    public init(bins: Int = 15) {
        precondition(bins > 0, "calibration needs at least one bin")
        self.bins = bins
        count = Array(repeating: 0, count: bins)
        correct = Array(repeating: 0, count: bins)
        confidence = Array(repeating: 0, count: bins)
    }

    /// Adds probability rows `[R, C]` (softmax outputs) with their labels.
    public mutating func add(probabilities: Tensor, labels: [Int]) {
        let (rows, classes) = (probabilities.shape[0], probabilities.shape[1])
        precondition(rows == labels.count, "\(rows) rows, \(labels.count) labels")
        probabilities.withUnsafeBufferPointer { p in
            for r in 0..<rows {
                var best = 0
                for c in 1..<classes where p[r * classes + c] > p[r * classes + best] { best = c }
                let conf = Double(p[r * classes + best])
                let b = min(bins - 1, max(0, Int((conf * Double(bins)).rounded(.up)) - 1))
                count[b] += 1
                confidence[b] += conf
                if best == labels[r] { correct[b] += 1 }
            }
        }
        total += rows
    }

    /// The expected calibration error (0 before any sample).
    public var ece: Double {
        guard total > 0 else { return 0 }
        var e = 0.0
        for b in 0..<bins where count[b] > 0 { e += abs(Double(correct[b]) - confidence[b]) / Double(total) }
        return e
    }
}

/// ``CalibrationBins/ece`` of one set of probability rows.
public func expectedCalibrationError(probabilities: Tensor, labels: [Int], bins: Int = 15) -> Double {
    var c = CalibrationBins(bins: bins)
    c.add(probabilities: probabilities, labels: labels)
    return c.ece
}
