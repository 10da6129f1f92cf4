import Foundation
import LSSKDTensor

/// One mini-batch: normalised (and augmented) images `[B, C, H, W]`, labels, and each
/// sample's index in the dataset as loaded (``ImageDataset/originalIndices``: stable
/// across subsets and splits; per-sample memories of the distillation trainer are keyed by it).
public struct Batch {
    public var images: Tensor
    public var labels: [Int]
    public var indices: [Int]
    /// CutMix: the labels of the pasted boxes (`labels[perm]`), nil when the batch is not
    /// mixed. The loss is `lambda * CE(labels) + (1 - lambda) * CE(labelsB)`.
    public var labelsB: [Int]? = nil
    /// CutMix: the fraction of each image that is its own (1 when not mixed).
    public var lambda: Float = 1
}

/// Produces the batches of one epoch in a seeded order, preparing the next batch on a
/// background thread while the caller trains on the current one (one batch ahead).
///
/// The order of an epoch depends only on `(seed, epoch)`, and the augmentation of a batch
/// only on `(seed, epoch, batch index)` (see ``AugmentationPlan``), so a resumed run sees
/// the same batches as an uninterrupted one.
public final class BatchLoader: @unchecked Sendable {
    public let dataset: ImageDataset
    public let batchSize: Int
    public let normalization: ChannelNormalization
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64
    /// Applied on the loader's thread after normalisation (``Augmentation/none``: off).
    public let augmentation: Augmentation
    /// Data-parallel training: ``forEachBatch(epoch:_:)`` passes only this rank's rows of each
    /// batch (the whole batch is assembled and augmented first, so a share is exactly those
    /// rows of what one process would train on). nil: whole batches.
    public var shard: BatchShard?

    private let queue = DispatchQueue(label: "lsskd.batch-loader")

    public init(dataset: ImageDataset, batchSize: Int, normalization: ChannelNormalization,
                shuffle: Bool, dropLast: Bool, seed: UInt64, augmentation: Augmentation = .none) {
        precondition(batchSize > 0, "batch size must be positive")
        precondition(!augmentation.randomRotation90 || dataset.height == dataset.width,
                     "rotation augmentation needs square images, not \(dataset.height)x\(dataset.width)")
        self.augmentation = augmentation
        self.dataset = dataset
        self.batchSize = batchSize
        self.normalization = normalization
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The sample order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var rng = RNG(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
        return rng.permutation(dataset.count)
    }

    /// Calls `body` with each batch of `epoch` in order; the next batch is assembled
    /// concurrently. Rethrows the first error of `body`.
    public func forEachBatch(epoch: Int, _ body: (Int, Batch) throws -> Void) throws {
        let order = self.order(epoch: epoch)
        let count = batchesPerEpoch
        guard count > 0 else { return }
        var pending = prefetch(order: order, batch: 0, epoch: epoch)
        for b in 0..<count {
            let current = pending.wait()
            if b + 1 < count { pending = prefetch(order: order, batch: b + 1, epoch: epoch) }
            try body(b, current)
        }
    }

    /// Batch `b` of `epoch`, assembled synchronously (what ``forEachBatch(epoch:_:)``
    /// passes to its body as batch `b`).
    public func batch(epoch: Int, index b: Int) -> Batch {
        makeBatch(order: order(epoch: epoch), batch: b, epoch: epoch)
    }

    /// The random choices of batch `b` of `epoch` for `count` samples.
    public func augmentationPlan(epoch: Int, batch b: Int, count: Int) -> AugmentationPlan {
        AugmentationPlan(augmentation, count: count, height: dataset.height, width: dataset.width,
                         seed: seed, epoch: epoch, batch: b)
    }

    /// Assembles batch `b` of `order` synchronously, augmented as batch `b` of `epoch`.
    public func makeBatch(order: [Int], batch b: Int, epoch: Int = 0) -> Batch {
        let lo = b * batchSize, hi = min(order.count, lo + batchSize)
        let idx = Array(order[lo..<hi])
        let c = dataset.channels, plane = dataset.height * dataset.width
        var images = Tensor(uninitialized: [idx.count, c, dataset.height, dataset.width])
        let scale = normalization.std.map { 1 / ($0 * 255) }
        let shift = (0..<c).map { -normalization.mean[$0] / normalization.std[$0] }
        images.withUnsafeMutableBufferPointer { out in
            dataset.pixels.withUnsafeBufferPointer { px in
                for (row, i) in idx.enumerated() {
                    for ch in 0..<c {
                        let src = (i * c + ch) * plane, dst = (row * c + ch) * plane
                        let s = scale[ch], t = shift[ch]
                        for j in 0..<plane { out[dst + j] = Float(px[src + j]) * s + t }
                    }
                }
            }
        }
        let labels = idx.map { Int(dataset.labels[$0]) }
        var batch = Batch(images: images, labels: labels, indices: idx.map { dataset.originalIndices[$0] })
        if !augmentation.isIdentity {
            let plan = augmentationPlan(epoch: epoch, batch: b, count: idx.count)
            plan.apply(to: &batch.images)
            if let m = plan.cutMix {
                batch.labelsB = m.permutation.map { labels[$0] }
                batch.lambda = m.lambda
            }
        }
        return batch
    }

    private func prefetch(order: [Int], batch b: Int, epoch: Int) -> Pending {
        let pending = Pending()
        let shard = self.shard
        queue.async { [self] in
            let whole = makeBatch(order: order, batch: b, epoch: epoch)
            pending.fulfil(shard.map { whole.rows($0.rows(of: whole.labels.count)) } ?? whole)
        }
        return pending
    }

    /// A batch being assembled on the loader's thread.
    private final class Pending: @unchecked Sendable {
        private let ready = DispatchSemaphore(value: 0)
        private var batch: Batch?
        func fulfil(_ b: Batch) { batch = b; ready.signal() }
        func wait() -> Batch { ready.wait(); return batch! }
    }
}

/// Rank `rank` of `size` in data-parallel training: which rows of a batch it trains on.
public struct BatchShard: Sendable, Equatable {
    public let rank: Int
    public let size: Int
    public init(rank: Int, size: Int) {
        precondition(size > 0 && rank >= 0 && rank < size, "rank \(rank) of \(size)")
        self.rank = rank
        self.size = size
    }
    /// Rows [n·rank/size, n·(rank+1)/size) of a batch of `n` rows (contiguous, in order: the
    /// shares of all ranks, concatenated in rank order, are the batch).
    public func rows(of n: Int) -> Range<Int> { (n * rank / size)..<(n * (rank + 1) / size) }
}

extension Batch {
    /// Rows `range` of the batch, copied (images, labels, indices, CutMix partners' labels).
    public func rows(_ range: Range<Int>) -> Batch {
        let n = labels.count
        precondition(range.lowerBound >= 0 && range.upperBound <= n, "rows \(range) of a batch of \(n)")
        let perRow = n > 0 ? images.count / n : 0
        var shape = images.shape
        shape[0] = range.count
        var sub = Tensor(uninitialized: shape)
        if range.count > 0 {
            sub.withUnsafeMutableBufferPointer { dst in
                images.withUnsafeBufferPointer { src in
                    dst.baseAddress!.update(from: src.baseAddress! + range.lowerBound * perRow, count: range.count * perRow)
                }
            }
        }
        var out = Batch(images: sub, labels: Array(labels[range]), indices: Array(indices[range]))
        out.labelsB = labelsB.map { Array($0[range]) }
        out.lambda = lambda
        return out
    }
}
