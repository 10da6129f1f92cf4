import LSSKDTensor

/// Same-class partners for class-wise self-distillation (CS-KD): for each sample of a batch,
/// another training sample of its class, drawn deterministically from (seed, epoch, step),
/// and the batch of those partners loaded with their own crops and flips. The method asks
/// this service for partner batches instead of reaching into the loader.
public final class ClassPartners {
    let loader: BatchLoader
    /// Dataset positions by original index, and positions of each class.
    let position: [Int: Int]
    let byClass: [[Int]]

    public init(loader: BatchLoader) {
        self.loader = loader
        let ds = loader.dataset
        var position = [Int: Int](), byClass = [[Int]](repeating: [], count: ds.classCount)
        for p in 0..<ds.count {
            position[ds.originalIndices[p]] = p
            byClass[Int(ds.labels[p])].append(p)
        }
        self.position = position
        self.byClass = byClass
    }

    /// Dataset positions of the partners of `indices` (original indices) at step `step` of
    /// `epoch`; a sample alone in its class is its own partner.
    public func partners(of indices: [Int], labels: [Int], epoch: Int, step: Int) -> [Int] {
        var rng = RNG(seed: loader.seed &+ 0xC5_4D &* UInt64(epoch + 1) &+ 0x9E37_79B9 &* UInt64(step + 1))
        return zip(indices, labels).map { i, y in
            let me = position[i]!
            let pool = byClass[y]
            guard pool.count > 1 else { return me }
            var p = me
            while p == me { p = pool[rng.nextInt(below: pool.count)] }
            return p
        }
    }

    /// The partners of `batch` as a batch: assembled as batch `step` of a shifted epoch, so
    /// that their augmentation is drawn independently of the anchors'.
    public func partnerBatch(for batch: Batch, epoch: Int, step: Int) -> Batch {
        let chosen = partners(of: batch.indices, labels: batch.labels, epoch: epoch, step: step)
        var order = [Int](repeating: 0, count: step * loader.batchSize)
        order += chosen
        return loader.makeBatch(order: order, batch: step, epoch: epoch + 1_000_003)
    }
}
