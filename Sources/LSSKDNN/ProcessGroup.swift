import Foundation
import LSSKDTensor

/// The collective operations of data-parallel training: K processes (ranks) that each train on
/// a share of every batch and combine what they computed. ``MPIProcessGroup`` (LSSKDTrain)
/// implements it over MPI; nil everywhere it is asked for means one process.
///
/// Every rank must call the same collectives in the same order with the same sizes (the
/// trainer guarantees it: all ranks run the same graph on equally sized shares). A failed
/// collective throws; the caller ends the job (``abort(_:)``), since the other ranks would
/// otherwise wait for it for ever.
public protocol ProcessGroup: AnyObject {
    /// This process's rank, 0..<size; rank 0 writes the run's files.
    var rank: Int { get }
    var size: Int { get }
    /// In-place sum over all ranks (every rank ends with the sum).
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Every rank's `send` (the same byte count on every rank), in rank order, into `receive`
    /// (size × send.count bytes).
    func allgather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws
    /// Rank r's `counts[r]` bytes, in rank order, into `receive` (the sum of `counts` bytes);
    /// `send.count == counts[rank]`.
    func allgather(_ send: UnsafeRawBufferPointer, counts: [Int], into receive: UnsafeMutableRawBufferPointer) throws
    /// Rank `root`'s bytes into every rank's `buffer` (the same count everywhere).
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    func barrier() throws
    /// Ends every rank of the job after printing `message` (to standard error); never returns.
    func abort(_ message: String) -> Never
}

extension ProcessGroup {
    /// Broadcasts a byte array of any length from `root` (its length first).
    public func broadcast(_ data: [UInt8], root: Int) throws -> [UInt8] {
        var count = UInt64(data.count)
        try withUnsafeMutableBytes(of: &count) { try broadcast($0, root: root) }
        var out = rank == root ? data : [UInt8](repeating: 0, count: Int(count))
        try out.withUnsafeMutableBytes { try broadcast($0, root: root) }
        return out
    }
}

/// Synchronised batch norm (`lsskd train --sync-bn`): while ``group`` is set, every
/// training-mode ``batchNorm(_:weight:bias:runningMean:runningVar:training:momentum:eps:)``
/// normalises with the statistics of the whole global batch (all ranks' rows) and its backward
/// all-reduces the sums the input gradient needs, so K ranks compute what one process with
/// the whole batch would (up to summation order). nil: per-rank statistics.
public enum BatchNormSync {
    nonisolated(unsafe) public static var group: ProcessGroup?
}
