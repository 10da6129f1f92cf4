import LSSKDTensor

/// Seeded, stratified subsets of a training set.
///
/// Within each class the samples are put in a random order that depends only on
/// `(seed, purpose, class, class size)`; a subset takes a prefix of that order. Hence:
///  - the same seed gives the same subset, on every machine;
///  - fractions are nested: with one seed, the 25% subset is inside the 50% subset;
///  - every class keeps (up to rounding) its share: `round(fraction * n_c)` samples of a
///    class of `n_c`.
/// Subsets keep dataset order and each sample's ``ImageDataset/originalIndices`` entry.
extension ImageDataset {
    /// Splits off a held-out part (for validation) of `round(fraction * n_c)` samples of
    /// every class `c`, clamped so that a class of two or more samples gives at least one
    /// to each side. `fraction` must be in [0, 1).
    public func stratifiedSplit(holdOut fraction: Double, seed: UInt64) -> (train: ImageDataset, heldOut: ImageDataset) {
        precondition(fraction >= 0 && fraction < 1, "held-out fraction \(fraction) is not in [0, 1)")
        var kept = [Int](), held = [Int]()
        for (c, positions) in positionsByClass().enumerated() {
            let n = positions.count
            let lower = fraction > 0 && n >= 2 ? 1 : 0
            let k = min(max(Int((fraction * Double(n)).rounded()), lower), max(n - 1, 0))
            let order = Self.classOrder(positions, seed: seed, purpose: 0x7661_6C69_6461_7465, classIndex: c)
            held += order[0..<k]
            kept += order[k...]
        }
        return (subset(kept.sorted()), subset(held.sorted()))
    }

    /// A stratified subset holding `round(fraction * n_c)` samples of every class `c` (at
    /// least one of a non-empty class). `fraction` must be in (0, 1]; 1 returns every sample.
    public func stratifiedFraction(_ fraction: Double, seed: UInt64) -> ImageDataset {
        precondition(fraction > 0 && fraction <= 1, "fraction \(fraction) is not in (0, 1]")
        var kept = [Int]()
        for (c, positions) in positionsByClass().enumerated() {
            let n = positions.count
            let k = min(max(Int((fraction * Double(n)).rounded()), min(1, n)), n)
            let order = Self.classOrder(positions, seed: seed, purpose: 0x6672_6163_7469_6F6E, classIndex: c)
            kept += order[0..<k]
        }
        return subset(kept.sorted())
    }

    /// `positions` shuffled by a generator seeded from (seed, purpose, class).
    static func classOrder(_ positions: [Int], seed: UInt64, purpose: UInt64, classIndex: Int) -> [Int] {
        var rng = RNG(seed: mixSeed(seed, purpose, UInt64(classIndex)))
        var order = positions
        rng.shuffle(&order)
        return order
    }
}

/// Hashes several words into one seed (the splitmix64 finaliser applied after each word),
/// so that streams keyed by (seed, epoch, batch, ...) are independent of each other.
func mixSeed(_ words: UInt64...) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    for w in words {
        h = (h ^ w) &+ 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
    }
    return h
}
