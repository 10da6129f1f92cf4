import Foundation
import LSSKDData
import LSSKDNN
import LSSKDTensor

/// One rank's part in data-parallel training (`mpirun -np K lsskd train …`), used by
/// ``ClassifierTrainer`` when its ``ClassifierTrainer/dataParallel`` is set.
///
/// The arithmetic, and why K ranks compute what one process with the whole batch computes:
/// - `--batch` is the global batch B. Every rank walks the same (seed, epoch) order and
///   assembles the whole batch b (augmentation included: its random choices are drawn per
///   batch, so every rank draws the same ones), then trains on its share, rows
///   [B·r/K, B·(r+1)/K) (``share(rows:rank:size:)``).
/// - The loss of a share is its rows' mean; scaled by n_r/B it is that share's part of the
///   global mean, so the gradients of the K shares *sum* to the global gradient: one
///   all-reduce (sum) over one flat buffer of every parameter's gradient (model and
///   auxiliary branches), then every rank takes the same optimiser step.
/// - Batch norm: per-rank statistics by default, or the global batch's (`--sync-bn`,
///   ``BatchNormSync``); see docs/distributed.md for the choice.
/// - Per-sample memories (``TrainingMethod/replicatedMemories``): after each step the rows
///   each rank wrote reach every rank (one all-gather), so every rank's memories are the
///   memories of one process.
/// Not bit-exact against one process: the sums over ranks add the same numbers in another
/// order (float32 gradients, double batch-norm statistics); tests bound the difference.
public final class DataParallel {
    public let group: ProcessGroup
    /// Whether batch norm uses the global batch's statistics (then running statistics are
    /// identical on every rank; otherwise they are averaged over ranks after every epoch).
    public let syncBatchNorm: Bool

    private let parameters: [Variable]
    private let buffers: [Variable]
    private let memories: [ReplicatedRows]
    /// The gradients of every parameter, back to back (allocated once).
    private var flatGradients: [Float]
    /// Per sample: its stable index (Int64), then for each memory a written flag (one byte)
    /// and the row's bytes.
    private let rowRecordBytes: Int
    private var sendRows: [UInt8]
    private var receiveRows: [UInt8]
    /// Seconds spent in the gradient all-reduce since the last ``takeReduceSeconds()``.
    public private(set) var reduceSeconds = 0.0

    /// - Parameters:
    ///   - parameters: the optimiser's parameters, in its order (every rank lists the same).
    ///   - buffers: the non-trained state that ranks must share (batch-norm running statistics).
    ///   - memories: the method's ``TrainingMethod/replicatedMemories``.
    ///   - maxBatch: the global batch size (bounds the rows one step writes).
    public init(group: ProcessGroup, syncBatchNorm: Bool, parameters: [Variable], buffers: [Variable],
                memories: [ReplicatedRows], maxBatch: Int) {
        self.group = group
        self.syncBatchNorm = syncBatchNorm
        self.parameters = parameters
        self.buffers = buffers
        self.memories = memories
        flatGradients = [Float](repeating: 0, count: parameters.reduce(0) { $0 + $1.value.count })
        rowRecordBytes = memories.isEmpty ? 0 : 8 + memories.reduce(0) { $0 + 1 + $1.rowByteCount }
        let ownRows = (maxBatch + group.size - 1) / group.size
        sendRows = [UInt8](repeating: 0, count: rowRecordBytes * ownRows)
        receiveRows = [UInt8](repeating: 0, count: rowRecordBytes * maxBatch)
    }

    /// The rows of a global batch of `n` rows that `rank` of `size` trains on.
    public static func share(rows n: Int, rank: Int, size: Int) -> Range<Int> {
        BatchShard(rank: rank, size: size).rows(of: n)
    }

    public var rank: Int { group.rank }
    public var size: Int { group.size }
    public var isRoot: Bool { group.rank == 0 }

    /// Sums every parameter's gradient over the ranks, in place (a parameter without a
    /// gradient on this rank contributes zeros and keeps none).
    public func allreduceGradients() throws {
        let start = Date()
        try flatGradients.withUnsafeMutableBufferPointer { flat in
            var offset = 0
            for p in parameters {
                let n = p.value.count
                let copied = p.withMutableGradient { g in
                    (flat.baseAddress! + offset).update(from: g.baseAddress!, count: n)
                }
                if copied == nil { (flat.baseAddress! + offset).update(repeating: 0, count: n) }
                offset += n
            }
            try group.allreduceSum(flat)
            offset = 0
            for p in parameters {
                let n = p.value.count
                p.withMutableGradient { g in g.baseAddress!.update(from: flat.baseAddress! + offset, count: n) }
                offset += n
            }
        }
        reduceSeconds += Date().timeIntervalSince(start)
    }

    public func takeReduceSeconds() -> Double {
        defer { reduceSeconds = 0 }
        return reduceSeconds
    }

    /// Rank 0's parameters and buffers on every rank (at the start, after a resume, and after
    /// every epoch: ranks on different CPUs may round an optimiser step differently; this
    /// keeps them from drifting apart).
    public func broadcastState() throws {
        let all = parameters + buffers
        var flat = [Float](repeating: 0, count: all.reduce(0) { $0 + $1.value.count })
        try flat.withUnsafeMutableBufferPointer { f in
            var offset = 0
            if isRoot {
                for v in all {
                    v.value.withUnsafeBufferPointer { (f.baseAddress! + offset).update(from: $0.baseAddress!, count: $0.count) }
                    offset += v.value.count
                }
            }
            try group.broadcast(UnsafeMutableRawBufferPointer(f), root: 0)
            if !isRoot {
                offset = 0
                for v in all {
                    v.value.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: f.baseAddress! + offset, count: $0.count) }
                    offset += v.value.count
                }
            }
        }
    }

    /// Replaces each buffer (running statistics) by its mean over the ranks: with per-rank
    /// batch norm each rank's running statistics saw only its shares.
    public func averageBuffers() throws {
        guard !buffers.isEmpty else { return }
        var flat = [Float](repeating: 0, count: buffers.reduce(0) { $0 + $1.value.count })
        let k = Float(size)
        try flat.withUnsafeMutableBufferPointer { f in
            var offset = 0
            for v in buffers {
                v.value.withUnsafeBufferPointer { (f.baseAddress! + offset).update(from: $0.baseAddress!, count: $0.count) }
                offset += v.value.count
            }
            try group.allreduceSum(f)
            offset = 0
            for v in buffers {
                v.value.withUnsafeMutableBufferPointer { b in
                    for i in 0..<b.count { b[i] = f[offset + i] / k }
                }
                offset += v.value.count
            }
        }
    }

    /// After a step on `share` (this rank's rows of a global batch of `globalRows` rows):
    /// every rank's written memory rows are stored on every rank.
    public func replicateMemories(share: Batch, globalRows: Int) throws {
        guard !memories.isEmpty else { return }
        let n = share.indices.count, rec = rowRecordBytes
        precondition(n * rec <= sendRows.count && globalRows * rec <= receiveRows.count, "more rows than the global batch")
        sendRows.withUnsafeMutableBytes { out in
            for (i, sample) in share.indices.enumerated() {
                var p = out.baseAddress! + i * rec
                p.storeBytes(of: Int64(sample), as: Int64.self)
                p += 8
                for m in memories {
                    let written: UInt8 = m.copyRow(sample, to: p + 1) ? 1 : 0
                    p.storeBytes(of: written, as: UInt8.self)
                    p += 1 + m.rowByteCount
                }
            }
        }
        let counts = (0..<size).map { Self.share(rows: globalRows, rank: $0, size: size).count * rec }
        let total = counts.reduce(0, +)
        try sendRows.withUnsafeBytes { send in
            try receiveRows.withUnsafeMutableBytes { receive in
                try group.allgather(UnsafeRawBufferPointer(rebasing: send[0..<(n * rec)]), counts: counts,
                                    into: UnsafeMutableRawBufferPointer(rebasing: receive[0..<total]))
            }
        }
        let own = Self.share(rows: globalRows, rank: rank, size: size)
        receiveRows.withUnsafeBytes { input in
            for row in 0..<globalRows where !own.contains(row) {
                var p = input.baseAddress! + row * rec
                let sample = Int(p.loadUnaligned(as: Int64.self))
                p += 8
                for m in memories {
                    if p.load(as: UInt8.self) != 0 { m.storeRow(sample, from: p + 1) }
                    p += 1 + m.rowByteCount
                }
            }
        }
    }

    /// Sums `values` over the ranks (epoch totals: loss sums, counts).
    public func sum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
    }
}
