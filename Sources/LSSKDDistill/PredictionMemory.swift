import Foundation
import LSSKDData
import LSSKDTensor
import LSSKDTrain

/// Storage precision of a ``PredictionMemory``.
public enum MemoryPrecision: String, CaseIterable, Sendable {
    /// IEEE half (`Float16`): CIFAR-100's LSSKD memories take 160 MB per branch instead of 320 MB.
    case half
    /// float32.
    case fp32
}

/// Per-sample memory of last epoch's train-mode predictions (PS-KD's and LSSKD's P[i] and
/// Q_s[i, j]), indexed by the sample's stable dataset index (``Batch/indices``).
///
/// The memory holds one row per sample of the training set it was made for (``init(indices:width:precision:)``):
/// a 25% fraction of CIFAR-100 needs a quarter of the rows, not rows for all 50,000 images. A small
/// table maps each stable index to its row.
///
/// Each of `samples` rows holds `width` floats (N for P, M*N*M = 4 * 4N for a branch's Q,
/// the four rotations of one image contiguous) and a flag saying whether it was ever
/// written: a sample never seen yet (epoch 0, or dropped by `dropLast` every epoch so far)
/// has no prediction, and its soft target falls back to the one-hot label.
public final class PredictionMemory: ReplicatedRows {
    /// Rows: the number of samples the memory holds.
    public let samples: Int
    public let width: Int
    /// Row of each stable dataset index, -1 for an index outside the memory's set.
    private let rowOf: [Int32]
    public let precision: MemoryPrecision
    /// IEEE half bit patterns (``HalfPrecision``).
    private var half: [UInt16]
    private var single: [Float]
    /// 1 where the row holds a prediction.
    private var written: [UInt8]

    /// A memory for the samples with stable dataset indices `indices` (distinct, >= 0): the
    /// training set's ``ImageDataset/originalIndices``.
    public init(indices: [Int], width: Int, precision: MemoryPrecision = .half) {
        precondition(width > 0, "memory needs width > 0")
        precondition(indices.allSatisfy { $0 >= 0 && $0 < Int(Int32.max) }, "memory indices must be in 0..<2^31")
        var rowOf = [Int32](repeating: -1, count: (indices.max() ?? -1) + 1)
        for (row, index) in indices.enumerated() {
            precondition(rowOf[index] < 0, "sample index \(index) appears twice")
            rowOf[index] = Int32(row)
        }
        self.rowOf = rowOf
        let samples = indices.count
        self.samples = samples
        self.width = width
        self.precision = precision
        half = precision == .half ? [UInt16](repeating: 0, count: samples * width) : []
        single = precision == .fp32 ? [Float](repeating: 0, count: samples * width) : []
        written = [UInt8](repeating: 0, count: samples)
    }

    /// A memory for the samples with stable indices 0..<samples.
    public convenience init(samples: Int, width: Int, precision: MemoryPrecision = .half) {
        precondition(samples >= 0, "memory needs samples >= 0")
        self.init(indices: Array(0..<samples), width: width, precision: precision)
    }

    /// The row of stable index `sample` (a precondition failure names an index outside the set).
    @inline(__always) private func row(of sample: Int) -> Int {
        precondition(sample >= 0 && sample < rowOf.count && rowOf[sample] >= 0,
                     "sample \(sample) is not one of the memory's \(samples) samples")
        return Int(rowOf[sample])
    }

    /// Bytes held by the predictions.
    public var byteCount: Int { samples * width * (precision == .half ? 2 : 4) }

    public func isWritten(_ sample: Int) -> Bool { written[row(of: sample)] != 0 }

    /// Copies row `sample` (as float32) to `out[0..<width]`; false (nothing copied) if the
    /// row was never written.
    @discardableResult
    public func read(_ sample: Int, into out: UnsafeMutablePointer<Float>) -> Bool {
        let r = row(of: sample)
        guard written[r] != 0 else { return false }
        let base = r * width
        switch precision {
        case .half: half.withUnsafeBufferPointer { h in for k in 0..<width { out[k] = HalfPrecision.float(h[base + k]) } }
        case .fp32: single.withUnsafeBufferPointer { s in out.update(from: s.baseAddress! + base, count: width) }
        }
        return true
    }

    /// Row `sample` as float32 (nil if never written).
    public func row(_ sample: Int) -> [Float]? {
        var r = [Float](repeating: 0, count: width)
        let ok = r.withUnsafeMutableBufferPointer { read(sample, into: $0.baseAddress!) }
        return ok ? r : nil
    }

    /// Stores `values[0..<width]` as row `sample` (rounded to half precision if so configured).
    public func write(_ sample: Int, from values: UnsafePointer<Float>) {
        let r = row(of: sample)
        let base = r * width
        switch precision {
        case .half: half.withUnsafeMutableBufferPointer { h in for k in 0..<width { h[base + k] = HalfPrecision.bits(values[k]) } }
        case .fp32: single.withUnsafeMutableBufferPointer { s in (s.baseAddress! + base).update(from: values, count: width) }
        }
        written[r] = 1
    }

    // MARK: Rows as bytes (data-parallel replication)

    public var rowByteCount: Int { width * (precision == .half ? 2 : 4) }

    public func copyRow(_ sample: Int, to out: UnsafeMutableRawPointer) -> Bool {
        let r = row(of: sample)
        guard written[r] != 0 else { return false }
        switch precision {
        case .half: half.withUnsafeBytes { out.copyMemory(from: $0.baseAddress! + r * width * 2, byteCount: width * 2) }
        case .fp32: single.withUnsafeBytes { out.copyMemory(from: $0.baseAddress! + r * width * 4, byteCount: width * 4) }
        }
        return true
    }

    public func storeRow(_ sample: Int, from bytes: UnsafeRawPointer) {
        let r = row(of: sample)
        switch precision {
        case .half: half.withUnsafeMutableBytes { ($0.baseAddress! + r * width * 2).copyMemory(from: bytes, byteCount: width * 2) }
        case .fp32: single.withUnsafeMutableBytes { ($0.baseAddress! + r * width * 4).copyMemory(from: bytes, byteCount: width * 4) }
        }
        written[r] = 1
    }

    // MARK: Checkpoint state

    /// `"<prefix>.values"`: the predictions as stored, bit for bit (half-precision values
    /// are packed two per float32 slot: the archive holds float32 tensors only), and
    /// `"<prefix>.written"`: one 0/1 float per sample.
    public func stateDict(prefix: String) -> [(String, Tensor)] {
        let n = samples * width
        var values: Tensor
        switch precision {
        case .half:
            values = Tensor(zeros: [(n + 1) / 2])
            values.withUnsafeMutableBufferPointer { dst in
                half.withUnsafeBytes { src in
                    if n > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: src.baseAddress!, byteCount: n * 2) }
                }
            }
        case .fp32:
            values = Tensor(shape: [n], scalars: single)
        }
        let flags = Tensor(shape: [samples], scalars: written.map { Float($0) })
        return [(prefix + ".values", values), (prefix + ".written", flags)]
    }

    /// Restores ``stateDict(prefix:)``; throws (modifying nothing) on a size mismatch.
    public func load(_ state: [String: Tensor], prefix: String) throws {
        let n = samples * width
        let expected = precision == .half ? (n + 1) / 2 : n
        guard let values = state[prefix + ".values"], let flags = state[prefix + ".written"] else {
            throw CheckpointError("checkpoint", "missing memory \(prefix)")
        }
        guard values.count == expected, flags.count == samples else {
            throw CheckpointError("checkpoint", "memory \(prefix) holds \(values.count) values for \(flags.count) samples; this run needs \(expected) (\(precision.rawValue)) for \(samples)")
        }
        // Predictions are probabilities: a NaN/infinite (or negative) entry is damage, not state.
        let bad: Int? = values.withUnsafeBufferPointer { src -> Int? in
            switch precision {
            case .half:
                // Exponent bits all ones: infinity or NaN; the sign bit: a negative value.
                let bits = UnsafeRawPointer(src.baseAddress!).assumingMemoryBound(to: UInt16.self)
                for i in 0..<n where bits[i] & 0x7C00 == 0x7C00 || bits[i] & 0x8000 != 0 { return i }
                return nil
            case .fp32:
                return src.firstIndex { !$0.isFinite || $0 < 0 }
            }
        }
        if let i = bad { throw CheckpointError("checkpoint", "memory \(prefix) holds an invalid probability at index \(i)") }
        switch precision {
        case .half:
            values.withUnsafeBufferPointer { src in
                half.withUnsafeMutableBytes { dst in
                    if n > 0 { dst.baseAddress!.copyMemory(from: UnsafeRawPointer(src.baseAddress!), byteCount: n * 2) }
                }
            }
        case .fp32:
            single = values.scalars
        }
        written = flags.scalars.map { $0 != 0 ? 1 : 0 }
    }
}

/// Soft targets of progressive self-distillation.
public enum SoftTargets {
    /// PS-KD's schedule `a_e = a_T * (e + 1) / E`; 0 at epoch 0 (no predictions yet:
    /// one-hot targets, LSSKD.md "At epoch 0 the targets are the plain one-hot labels").
    public static func alpha(alphaT: Float, epoch: Int, epochs: Int) -> Float {
        epoch == 0 ? 0 : alphaT * Float(epoch + 1) / Float(epochs)
    }

    /// Writes `(1 - a) * onehot(label) + a * remembered` to `row[0..<width]`, or the plain
    /// one-hot row when `remembered` is nil (epoch 0, or a sample not predicted yet).
    public static func fill(_ row: UnsafeMutablePointer<Float>, width: Int, label: Int, alpha a: Float,
                            remembered: UnsafePointer<Float>?) {
        if let q = remembered {
            for k in 0..<width { row[k] = a * q[k] }
            row[label] += 1 - a
        } else {
            row.update(repeating: 0, count: width)
            row[label] = 1
        }
    }

    /// Reads `sample`'s remembered prediction into `scratch` when it is needed (`a > 0`) and
    /// present; returns it for ``fill(_:width:label:alpha:remembered:)``.
    public static func remembered(_ memory: PredictionMemory?, sample: Int, alpha a: Float,
                                  scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>? {
        guard a > 0, let memory, memory.read(sample, into: scratch) else { return nil }
        return UnsafePointer(scratch)
    }

    /// Mean over rows of the entropy `-sum_c p log p` of probability rows `[R, C]` (Double sums).
    public static func meanEntropy(_ probs: Tensor) -> Float {
        let (r, c) = (probs.shape[0], probs.shape[1])
        guard r > 0 else { return 0 }
        var h = 0.0
        probs.withUnsafeBufferPointer { p in
            for k in 0..<(r * c) where p[k] > 0 { h -= Double(p[k]) * log(Double(p[k])) }
        }
        return Float(h / Double(r))
    }
}

/// float32 <-> IEEE 754 half conversions (round to nearest even), through `Float16` where
/// Swift has it and in software elsewhere (macOS on Intel has no `Float16`).
public enum HalfPrecision {
    #if os(macOS) && arch(x86_64)
    @inline(__always) public static func bits(_ f: Float) -> UInt16 { softwareBits(f) }
    @inline(__always) public static func float(_ h: UInt16) -> Float { softwareFloat(h) }
    #else
    @inline(__always) public static func bits(_ f: Float) -> UInt16 { Float16(f).bitPattern }
    @inline(__always) public static func float(_ h: UInt16) -> Float { Float(Float16(bitPattern: h)) }
    #endif

    /// Software float32 -> half, round to nearest even (NaN stays NaN, overflow gives infinity).
    public static func softwareBits(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
        let magnitude = x & 0x7FFF_FFFF
        if magnitude > 0x7F80_0000 { return sign | 0x7E00 }  // NaN
        let exponent = Int((x >> 23) & 0xFF) - 127 + 15
        var mantissa = x & 0x7F_FFFF
        if exponent >= 31 { return sign | 0x7C00 }  // overflow or infinity
        if exponent <= 0 {  // half subnormal (or zero)
            if exponent < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - exponent)
            var half = mantissa >> shift
            let rest = mantissa & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rest > halfway || (rest == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = (UInt32(exponent) << 10) | (mantissa >> 13)
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) { half += 1 }  // a carry may round up to infinity
        return sign | UInt16(half)
    }

    /// Software half -> float32 (exact).
    public static func softwareFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F), mantissa = UInt32(h & 0x3FF)
        if exponent == 0 { return sign * Float(mantissa) * 0x1p-24 }
        if exponent == 31 { return mantissa == 0 ? sign * .infinity : .nan }
        return Float(bitPattern: (h & 0x8000 != 0 ? 0x8000_0000 : 0) | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }
}
