import Foundation

/// xoshiro256** (Blackman & Vigna), seeded through splitmix64: a fast, seedable
/// generator whose whole state is four words, so checkpoints can save and restore it.
///
/// Every derived draw (floats, normals, integers, shuffles) uses a fixed algorithm
/// written here, so a seed gives the same stream on every platform and Swift version
/// (unlike the standard library's `shuffle(using:)`, whose algorithm is unspecified).
public struct RNG: RandomNumberGenerator, Sendable {
    /// The generator state; restore it to replay the stream exactly.
    public struct State: Hashable, Codable, Sendable {
        public var s0, s1, s2, s3: UInt64
        public init(_ s0: UInt64, _ s1: UInt64, _ s2: UInt64, _ s3: UInt64) {
            self.s0 = s0; self.s1 = s1; self.s2 = s2; self.s3 = s3
        }
        /// The four words, for serialisation.
        public var words: [UInt64] { [s0, s1, s2, s3] }
    }

    public var state: State

    /// State expanded from `seed` with splitmix64 (as the xoshiro authors recommend).
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = State(splitmix(), splitmix(), splitmix(), splitmix())
    }

    public init(state: State) {
        precondition(state.words.contains { $0 != 0 }, "xoshiro256** state must not be all zero")
        self.state = state
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = RNG.rotl(state.s1 &* 5, 7) &* 9
        let t = state.s1 << 17
        state.s2 ^= state.s0
        state.s3 ^= state.s1
        state.s1 ^= state.s2
        state.s0 ^= state.s3
        state.s2 ^= t
        state.s3 = RNG.rotl(state.s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        Float(Double(low) + (Double(high) - Double(low)) * nextDouble())
    }

    /// Normal(mean, std) by Box–Muller in double precision (two uniforms per draw).
    public mutating func normal(mean: Float = 0, std: Float = 1) -> Float {
        let u1 = 1.0 - nextDouble()  // (0, 1]
        let u2 = nextDouble()
        let z = (-2.0 * Foundation.log(u1)).squareRoot() * Foundation.cos(2.0 * Double.pi * u2)
        return Float(Double(mean) + Double(std) * z)
    }

    /// Uniform integer in 0..<bound, unbiased (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Fisher–Yates shuffle (from the last element down).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}
