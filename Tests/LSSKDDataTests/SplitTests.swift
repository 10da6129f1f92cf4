import XCTest
import LSSKDTensor
@testable import LSSKDData

final class SplitTests: XCTestCase {
    /// 160 grey 1x2 images, interleaved classes of 100, 40 and 20 samples; image i has
    /// pixels [i % 256, i / 256] so it can be recognised after subsetting.
    private func imbalanced() -> ImageDataset {
        var labels = [Int32]()
        var counts = [100, 40, 20]
        while counts.contains(where: { $0 > 0 }) {
            for c in 0..<3 where counts[c] > 0 { labels.append(Int32(c)); counts[c] -= 1 }
        }
        let pixels = (0..<labels.count).flatMap { [UInt8($0 % 256), UInt8($0 / 256)] }
        return ImageDataset(pixels: pixels, labels: labels, channels: 1, height: 1, width: 2, classCount: 3)
    }

    private func classCounts(_ ds: ImageDataset) -> [Int] { ds.positionsByClass().map(\.count) }

    /// Every sample of `sub` is the original sample its originalIndices entry names.
    private func assertTracksOriginals(_ sub: ImageDataset, _ full: ImageDataset, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(sub.originalCount, full.count, file: file, line: line)
        for (i, o) in sub.originalIndices.enumerated() {
            XCTAssertEqual(sub.labels[i], full.labels[o], file: file, line: line)
            XCTAssertEqual(Array(sub.pixels[(2 * i)..<(2 * i + 2)]), Array(full.pixels[(2 * o)..<(2 * o + 2)]), file: file, line: line)
        }
    }

    func testStratifiedFractionKeepsProportionsAndIsSeeded() {
        let full = imbalanced()
        for (f, expected) in [(0.25, [25, 10, 5]), (0.5, [50, 20, 10]), (0.75, [75, 30, 15]), (1.0, [100, 40, 20])] {
            let sub = full.stratifiedFraction(f, seed: 42)
            XCTAssertEqual(classCounts(sub), expected, "fraction \(f)")
            XCTAssertEqual(sub.originalIndices, sub.originalIndices.sorted(), "dataset order kept")
            assertTracksOriginals(sub, full)
            XCTAssertEqual(full.stratifiedFraction(f, seed: 42).originalIndices, sub.originalIndices, "same seed, same subset")
        }
        let a = full.stratifiedFraction(0.25, seed: 1).originalIndices
        XCTAssertNotEqual(a, full.stratifiedFraction(0.25, seed: 2).originalIndices, "another seed, another subset")
        let half = Set(full.stratifiedFraction(0.5, seed: 1).originalIndices)
        XCTAssertTrue(Set(a).isSubset(of: half), "fractions are nested for one seed")
        XCTAssertEqual(classCounts(full.stratifiedFraction(0.001, seed: 0)), [1, 1, 1], "every class keeps a sample")
    }

    func testValidationSplitIsStratifiedSeededAndDisjoint() {
        let full = imbalanced()
        let (train, val) = full.stratifiedSplit(holdOut: 0.1, seed: 7)
        XCTAssertEqual(classCounts(val), [10, 4, 2])
        XCTAssertEqual(classCounts(train), [90, 36, 18])
        XCTAssertTrue(Set(train.originalIndices).isDisjoint(with: val.originalIndices))
        XCTAssertEqual(Set(train.originalIndices).union(val.originalIndices), Set(0..<full.count))
        assertTracksOriginals(train, full)
        assertTracksOriginals(val, full)
        XCTAssertEqual(full.stratifiedSplit(holdOut: 0.1, seed: 7).heldOut.originalIndices, val.originalIndices)
        XCTAssertNotEqual(full.stratifiedSplit(holdOut: 0.1, seed: 8).heldOut.originalIndices, val.originalIndices)

        // A fraction of the remaining training part: proportional, disjoint from val, and its
        // indices still point into the full set.
        let quarter = train.stratifiedFraction(0.25, seed: 7)
        XCTAssertEqual(classCounts(quarter), [23, 9, 5])  // round(0.25 * [90, 36, 18])
        XCTAssertTrue(Set(quarter.originalIndices).isDisjoint(with: val.originalIndices))
        assertTracksOriginals(quarter, full)
    }

    func testTinyClassesKeepOneSampleOnEachSide() {
        let ds = ImageDataset(pixels: [UInt8](repeating: 0, count: 5 * 2), labels: [0, 0, 1, 1, 2], channels: 1,
                              height: 1, width: 2, classCount: 3)
        let (train, val) = ds.stratifiedSplit(holdOut: 0.1, seed: 0)
        XCTAssertEqual(classCounts(val), [1, 1, 0])
        XCTAssertEqual(classCounts(train), [1, 1, 1])
    }

    func testBatchIndicesAreOriginalIndices() throws {
        let full = imbalanced()
        let sub = full.stratifiedFraction(0.5, seed: 3).prefix(50)
        XCTAssertEqual(sub.originalIndices, Array(full.stratifiedFraction(0.5, seed: 3).originalIndices.prefix(50)))
        let loader = BatchLoader(dataset: sub, batchSize: 8, normalization: ChannelNormalization(mean: [0], std: [1]),
                                 shuffle: true, dropLast: false, seed: 1)
        var seen = [Int]()
        try loader.forEachBatch(epoch: 0) { _, batch in
            for (row, o) in batch.indices.enumerated() {
                XCTAssertEqual(batch.labels[row], Int(full.labels[o]))
                XCTAssertEqual(batch.images[flat: row * 2], Float(full.pixels[2 * o]) / 255, accuracy: 1e-6)
            }
            seen += batch.indices
        }
        XCTAssertEqual(seen.sorted(), sub.originalIndices.sorted())
        XCTAssertNotEqual(Set(seen), Set(0..<50), "indices are not positions in the subset")
    }
}
