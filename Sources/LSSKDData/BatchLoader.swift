import Foundation
import LSSKDTensor

/// One mini-batch: normalised images `[B, C, H, W]`, labels, and each sample's index in
/// its dataset (per-sample memories of the distillation trainer are keyed by it).
public struct Batch {
    public var images: Tensor
    public var labels: [Int]
    public var indices: [Int]
}

/// Produces the batches of one epoch in a seeded order, preparing the next batch on a
/// background thread while the caller trains on the current one (one batch ahead).
///
/// The order of an epoch depends only on `(seed, epoch)`, so a resumed run sees the
/// same batches as an uninterrupted one.
public final class BatchLoader: @unchecked Sendable {
    public let dataset: ImageDataset
    public let batchSize: Int
    public let normalization: ChannelNormalization
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64

    private let queue = DispatchQueue(label: "lsskd.batch-loader")

    public init(dataset: ImageDataset, batchSize: Int, normalization: ChannelNormalization,
                shuffle: Bool, dropLast: Bool, seed: UInt64) {
        precondition(batchSize > 0, "batch size must be positive")
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
        var pending = prefetch(order: order, batch: 0)
        for b in 0..<count {
            let current = pending.wait()
            if b + 1 < count { pending = prefetch(order: order, batch: b + 1) }
            try body(b, current)
        }
    }

    /// Assembles batch `b` of `order` synchronously.
    public func makeBatch(order: [Int], batch b: Int) -> Batch {
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
        return Batch(images: images, labels: idx.map { Int(dataset.labels[$0]) }, indices: idx)
    }

    private func prefetch(order: [Int], batch b: Int) -> Pending {
        let pending = Pending()
        queue.async { [self] in pending.fulfil(makeBatch(order: order, batch: b)) }
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
