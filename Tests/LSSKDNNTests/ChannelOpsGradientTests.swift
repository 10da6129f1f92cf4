import XCTest
import LSSKDTensor
@testable import LSSKDNN

/// Channel concat / slice / shuffle: exact values against hand-written index maps, and
/// finite-difference gradient checks (GradCheck.swift: the ops are linear, so the central
/// difference is exact up to rounding), each also with an input used twice so that the
/// accumulate path of every backward runs.
final class ChannelOpsGradientTests: XCTestCase {
    override func setUp() { BufferPool.shared.poisonsBlocks = true }
    override func tearDown() { BufferPool.shared.poisonsBlocks = false }

    /// Value `1000 n + 100 c + 10 h + w`: every element names its own position.
    func positional(_ shape: [Int]) -> Variable {
        var t = Tensor(uninitialized: shape)
        let (cs, hs, ws) = (shape[1], shape[2], shape[3])
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices {
                let w = i % ws, h = (i / ws) % hs, c = (i / (ws * hs)) % cs, n = i / (ws * hs * cs)
                p[i] = Float(1000 * n + 100 * c + 10 * h + w)
            }
        }
        return Variable(t, requiresGrad: true)
    }

    /// The channel index of every (n, c) plane of a positional tensor, checking the planes are intact.
    func channelsOf(_ t: Tensor, file: StaticString = #filePath, line: UInt = #line) -> [[Int]] {
        let (n, c, hw, w) = (t.shape[0], t.shape[1], t.shape[2] * t.shape[3], t.shape[3])
        return (0..<n).map { s in
            (0..<c).map { ch in
                let base = (s * c + ch) * hw
                let v = Int(t[flat: base])
                for k in 0..<hw {
                    XCTAssertEqual(Int(t[flat: base + k]), v + 10 * (k / w) + k % w, "plane (\(s), \(ch))", file: file, line: line)
                }
                XCTAssertEqual(v / 1000, s, file: file, line: line)
                return (v % 1000) / 100
            }
        }
    }

    func testValues() throws {
        let a = positional([2, 3, 2, 3]), b = positional([2, 2, 2, 3])
        let cat = try concatChannels([a, b])
        XCTAssertEqual(cat.shape, [2, 5, 2, 3])
        XCTAssertEqual(channelsOf(cat.value), [[0, 1, 2, 0, 1], [0, 1, 2, 0, 1]])

        let mid = try sliceChannels(a, 1..<3)
        XCTAssertEqual(mid.shape, [2, 2, 2, 3])
        XCTAssertEqual(channelsOf(mid.value), [[1, 2], [1, 2]])
        XCTAssertEqual(try sliceChannels(a, 2..<2).shape, [2, 0, 2, 3])

        let parts = try splitChannels(positional([1, 6, 2, 3]), sizes: [2, 4])
        XCTAssertEqual(parts.map { channelsOf($0.value)[0] }, [[0, 1], [2, 3, 4, 5]])

        // ShuffleNet: [N, g, C/g] -> [N, C/g, g]; C = 6, g = 3 gives 0 2 4 1 3 5; g = 2 gives 0 3 1 4 2 5.
        let x = positional([2, 6, 2, 3])
        XCTAssertEqual(channelsOf(try channelShuffle(x, groups: 3).value)[1], [0, 2, 4, 1, 3, 5])
        XCTAssertEqual(channelsOf(try channelShuffle(x, groups: 2).value)[0], [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(channelsOf(try channelShuffle(x, groups: 1).value)[0], [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(channelsOf(try channelShuffle(x, groups: 6).value)[0], [0, 1, 2, 3, 4, 5])
    }

    func testShapeErrors() {
        var rng = RNG(seed: 3)
        let a = param([2, 3, 4, 4], &rng), b = param([2, 3, 4, 5], &rng), flat = param([2, 3], &rng)
        XCTAssertThrowsError(try concatChannels([]))
        XCTAssertThrowsError(try concatChannels([a, b]))
        XCTAssertThrowsError(try concatChannels([a, flat]))
        XCTAssertThrowsError(try sliceChannels(a, 2..<4))
        XCTAssertThrowsError(try sliceChannels(flat, 0..<1))
        XCTAssertThrowsError(try splitChannels(a, sizes: [1, 1]))
        XCTAssertThrowsError(try channelShuffle(a, groups: 2))
        XCTAssertThrowsError(try channelShuffle(a, groups: 0))
    }

    func testConcatGradients() {
        var rng = RNG(seed: 11)
        let a = param([2, 3, 3, 2], &rng), b = param([2, 1, 3, 2], &rng), c = param([2, 2, 3, 2], &rng)
        assertGradients([a, b, c], "concat three") { try concatChannels($0) }
        assertGradients([a, b], "concat with a twice (accumulate)") { v in try concatChannels([v[0], v[1], v[0]]) }
    }

    func testSliceGradients() {
        var rng = RNG(seed: 12)
        let x = param([2, 5, 3, 3], &rng)
        for r in [0..<2, 1..<4, 3..<5, 0..<5] {
            assertGradients([x], "slice \(r)") { try sliceChannels($0[0], r) }
        }
        // Overlapping slices of one input: the second backward accumulates into the range.
        assertGradients([x], "two overlapping slices") { v in
            try concatChannels([try sliceChannels(v[0], 1..<4), try sliceChannels(v[0], 0..<2)])
        }
        // x used directly and through a slice: the slice backward may run first or second.
        assertGradients([x], "x and a slice of x") { v in
            try concatChannels([v[0], try sliceChannels(v[0], 2..<5)])
        }
        assertGradients([x], "split") { v in
            let parts = try splitChannels(v[0], sizes: [2, 3])
            return try concatChannels([parts[1], parts[0]])
        }
    }

    func testShuffleGradients() {
        var rng = RNG(seed: 13)
        let x = param([2, 6, 2, 3], &rng)
        for g in [2, 3, 6] {
            assertGradients([x], "shuffle g=\(g)") { try channelShuffle($0[0], groups: g) }
        }
        assertGradients([x], "shuffle twice, x reused") { v in
            try channelShuffle(try channelShuffle(v[0], groups: 2), groups: 3) + v[0]
        }
    }

    /// A ShuffleNetV2 unit's wiring: split, conv on one half, concat, shuffle.
    func testShuffleV2UnitWiring() {
        var rng = RNG(seed: 14)
        let x = param([2, 4, 3, 3], &rng), w = param([2, 2, 1, 1], &rng)
        assertGradients([x, w], "split-conv-concat-shuffle") { v in
            let halves = try splitChannels(v[0], sizes: [2, 2])
            let right = try conv2d(halves[1], weight: v[1])
            return try channelShuffle(try concatChannels([halves[0], right]), groups: 2)
        }
    }

    /// The fused concat + shuffle (C kernel lsk_concat_shuffle_*) equals the two-step form,
    /// and its gradients pass the checker, with both, one, or a shared input.
    func testConcatShuffle() throws {
        let a = positional([2, 3, 2, 3]), b = positional([2, 3, 2, 3])
        let y = try concatShuffle(a, b, groups: 2)
        XCTAssertEqual(channelsOf(y.value), [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2]])
        let two = try channelShuffle(try concatChannels([a, b]), groups: 3)
        XCTAssertEqual(channelsOf(try concatShuffle(a, b, groups: 3).value), channelsOf(two.value))
        XCTAssertEqual(channelsOf(try concatShuffle(a, b, groups: 1).value), [[0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2]])
        XCTAssertThrowsError(try concatShuffle(a, positional([2, 2, 2, 3]), groups: 2))
        var rng = RNG(seed: 15)
        let p = param([2, 4, 2, 3], &rng), q = param([2, 2, 2, 3], &rng)
        let c = Variable(Tensor.uniform([2, 4, 2, 3], low: -1, high: 1, rng: &rng))
        for g in [1, 2, 3, 6] {
            assertGradients([p, q], "concatShuffle g=\(g)") { try concatShuffle($0[0], $0[1], groups: g) }
        }
        assertGradients([p], "concatShuffle one constant input") { try concatShuffle($0[0], c, groups: 2) }
        assertGradients([p], "concatShuffle shared input") { try concatShuffle($0[0], $0[0], groups: 4) }
        assertGradients([p, q], "concatShuffle both accumulate") { v in
            try concatShuffle(v[0], v[1], groups: 2) + concatShuffle(v[1], v[0], groups: 3)
        }
        // p already holds a gradient and q not (or the reverse order): the unfused fallback
        let c2 = Variable(Tensor.uniform([2, 2, 2, 3], low: -1, high: 1, rng: &rng))
        assertGradients([p, q], "concatShuffle mixed accumulate") { v in
            try concatShuffle(v[0], v[1], groups: 2) + concatChannels([v[0], c2])
        }
        assertGradients([p, q], "concatShuffle mixed accumulate, other order") { v in
            try concatChannels([v[0], c2]) + concatShuffle(v[0], v[1], groups: 2)
        }
    }
}
