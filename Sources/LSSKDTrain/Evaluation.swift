import LSSKDData
import LSSKDNN
import LSSKDTensor

/// Accuracy and loss of a classifier on a dataset split (evaluation mode, no graph).
public struct EvalResult: Codable, Sendable {
    public var top1: Double
    public var top5: Double
    public var loss: Double
    public var count: Int
}

/// Runs `model` in evaluation mode over every batch of `loader` (in order) and restores
/// the module's previous mode afterwards.
public func evaluate(_ model: Module, on loader: BatchLoader) throws -> EvalResult {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    var correct1 = 0, correct5 = 0, seen = 0
    var lossSum = 0.0
    try Autograd.withNoGrad {
        try loader.forEachBatch(epoch: 0) { _, batch in
            let logits = try model(Variable(batch.images))
            let loss = try crossEntropy(logits: logits, labels: batch.labels)
            lossSum += Double(loss.value.scalar) * Double(batch.labels.count)
            let (c1, c5) = topKCorrect(logits.value, labels: batch.labels)
            correct1 += c1
            correct5 += c5
            seen += batch.labels.count
        }
    }
    let n = Double(max(seen, 1))
    return EvalResult(top1: Double(correct1) / n, top5: Double(correct5) / n, loss: lossSum / n, count: seen)
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
