import XCTest
@testable import LSSKDData
import LSSKDTensor

/// Data-parallel shares of a batch (``BatchShard``, ``Batch/rows(_:)``): the ranks' shares,
/// in rank order, are the batch, row for row.
final class BatchShardTests: XCTestCase {
    func testSharesPartitionTheBatchInRankOrder() {
        for n in [1, 7, 32, 64, 65] {
            for size in 1...8 where size <= n {
                let ranges = (0..<size).map { BatchShard(rank: $0, size: size).rows(of: n) }
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, n)
                for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                let counts = ranges.map(\.count)
                XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "n \(n), size \(size)")
            }
        }
    }

    func testRowsCopyImagesLabelsIndicesAndCutMixPartners() {
        let n = 5, perRow = 2 * 3 * 3
        var batch = Batch(images: Tensor(shape: [n, 2, 3, 3], scalars: (0..<(n * perRow)).map(Float.init)),
                          labels: [4, 3, 2, 1, 0], indices: [10, 11, 12, 13, 14])
        batch.labelsB = [0, 1, 2, 3, 4]
        batch.lambda = 0.25
        let share = batch.rows(2..<4)
        XCTAssertEqual(share.images.shape, [2, 2, 3, 3])
        XCTAssertEqual(share.images.scalars, (2 * perRow..<4 * perRow).map(Float.init))
        XCTAssertEqual(share.labels, [2, 1])
        XCTAssertEqual(share.indices, [12, 13])
        XCTAssertEqual(share.labelsB, [2, 3])
        XCTAssertEqual(share.lambda, 0.25)
    }

    /// The loader hands a rank exactly its rows of what one process would train on
    /// (augmentation included: the whole batch is augmented before it is cut).
    func testShardedLoaderYieldsTheRowsOfTheWholeBatch() throws {
        let count = 40, side = 8
        var pixels = [UInt8](repeating: 0, count: count * 3 * side * side)
        var rng = RNG(seed: 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: rng.next()) }
        let data = ImageDataset(pixels: pixels, labels: (0..<count).map { Int32($0 % 10) },
                                channels: 3, height: side, width: side, classCount: 10)
        let norm = ChannelNormalization(statisticsOf: data)
        func loader() -> BatchLoader {
            BatchLoader(dataset: data, batchSize: 16, normalization: norm, shuffle: true, dropLast: true, seed: 9,
                        augmentation: .standardCutMix)
        }
        let whole = loader()
        var batches = [Batch]()
        try whole.forEachBatch(epoch: 1) { _, b in batches.append(b) }
        for rank in 0..<2 {
            let sharded = loader()
            sharded.shard = BatchShard(rank: rank, size: 2)
            var b = 0
            try sharded.forEachBatch(epoch: 1) { _, share in
                let rows = BatchShard(rank: rank, size: 2).rows(of: batches[b].labels.count)
                let expected = batches[b].rows(rows)
                XCTAssertEqual(share.indices, expected.indices)
                XCTAssertEqual(share.images.scalars, expected.images.scalars)
                XCTAssertEqual(share.labelsB, expected.labelsB)
                b += 1
            }
            XCTAssertEqual(b, batches.count)
        }
    }
}
