import Foundation

/// A process-wide cache of 64-byte-aligned memory blocks, bucketed by size class.
///
/// Every tensor buffer comes from here and goes back here when its last owner is
/// released, so a training loop that repeats the same shapes stops calling the system
/// allocator after its first step (check ``statistics``: `misses` stops growing).
///
/// Size classes: requests up to 4 KiB round up to a multiple of 64 bytes; larger ones
/// round up to a multiple of 1/8 of the next power of two (at most 12.5% slack).
/// A block is reused only for a request of the same class.
///
/// Thread safety: every method takes an internal lock; tensors may be created and
/// released on any thread.
public final class BufferPool: @unchecked Sendable {
    /// The pool used by every ``Tensor``.
    public static let shared = BufferPool()

    /// Counters since creation (or the last ``resetCounters()``) and current byte totals.
    public struct Statistics: Equatable, CustomStringConvertible, Sendable {
        /// Requests served from the cache.
        public var hits: Int
        /// Requests that had to allocate a new block from the system.
        public var misses: Int
        /// Bytes in blocks currently owned by live buffers.
        public var bytesInUse: Int
        /// Bytes in idle blocks kept for reuse.
        public var bytesCached: Int
        /// Bytes ever obtained from the system allocator (not reset by ``resetCounters()``).
        public var bytesAllocated: Int

        public var description: String {
            "BufferPool(hits: \(hits), misses: \(misses), inUse: \(bytesInUse) B, cached: \(bytesCached) B, allocated: \(bytesAllocated) B)"
        }
    }

    /// Alignment of every block, in bytes (a cache line; enough for AVX-512 loads).
    public static let alignment = 64

    /// Idle blocks beyond this many bytes are freed instead of cached.
    public var maxCachedBytes: Int {
        get { lock.lock(); defer { lock.unlock() }; return _maxCachedBytes }
        set { lock.lock(); _maxCachedBytes = newValue; lock.unlock() }
    }

    /// When true, every block handed out is first filled with 0xFF bytes (float NaN,
    /// int32 -1), so that reading memory a kernel should have written shows up as NaN.
    /// A debugging aid for tests; off by default.
    public var poisonsBlocks: Bool {
        get { lock.lock(); defer { lock.unlock() }; return _poison }
        set { lock.lock(); _poison = newValue; lock.unlock() }
    }

    private let lock = NSLock()
    private var _poison = false
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var stats = Statistics(hits: 0, misses: 0, bytesInUse: 0, bytesCached: 0, bytesAllocated: 0)
    private var _maxCachedBytes = Int.max

    public init() {}

    deinit {
        for (_, blocks) in free { for p in blocks { p.deallocate() } }
    }

    /// The size class (bytes actually reserved) of a request for `byteCount` bytes.
    public static func sizeClass(_ byteCount: Int) -> Int {
        let n = max(byteCount, 1)
        if n <= 4096 { return (n + 63) & ~63 }
        let pow2 = 1 << (Int.bitWidth - (n - 1).leadingZeroBitCount)  // next power of two >= n
        let step = pow2 >> 3
        return (n + step - 1) / step * step
    }

    /// Returns a block of at least `byteCount` bytes and the size class to give back with it.
    public func acquire(byteCount: Int) -> (pointer: UnsafeMutableRawPointer, sizeClass: Int) {
        let cls = BufferPool.sizeClass(byteCount)
        lock.lock()
        if let p = free[cls]?.popLast() {  // in place: no array copy
            stats.hits += 1
            stats.bytesCached -= cls
            stats.bytesInUse += cls
            let poison = _poison
            lock.unlock()
            if poison { p.initializeMemory(as: UInt8.self, repeating: 0xFF, count: cls) }
            return (p, cls)
        }
        stats.misses += 1
        stats.bytesInUse += cls
        stats.bytesAllocated += cls
        let poison = _poison
        lock.unlock()
        let p = UnsafeMutableRawPointer.allocate(byteCount: cls, alignment: BufferPool.alignment)
        if poison { p.initializeMemory(as: UInt8.self, repeating: 0xFF, count: cls) }
        return (p, cls)
    }

    /// Gives a block back. `sizeClass` must be the value ``acquire(byteCount:)`` returned.
    public func release(_ pointer: UnsafeMutableRawPointer, sizeClass cls: Int) {
        lock.lock()
        stats.bytesInUse -= cls
        if stats.bytesCached + cls <= _maxCachedBytes {
            free[cls, default: []].append(pointer)
            stats.bytesCached += cls
            lock.unlock()
        } else {
            lock.unlock()
            pointer.deallocate()
        }
    }

    /// A snapshot of the counters.
    public var statistics: Statistics {
        lock.lock(); defer { lock.unlock() }
        return stats
    }

    /// Sets `hits` and `misses` to zero (byte totals are kept).
    public func resetCounters() {
        lock.lock()
        stats.hits = 0
        stats.misses = 0
        lock.unlock()
    }

    /// Frees every idle block.
    public func trim() {
        lock.lock()
        let lists = free
        free = [:]
        stats.bytesCached = 0
        lock.unlock()
        for (_, blocks) in lists { for p in blocks { p.deallocate() } }
    }
}

/// A pooled block holding `count` elements of a trivial type; returns itself to the
/// pool when released. Shared by the value types ``Tensor`` and ``IndexTensor``.
@usableFromInline
final class PooledStorage {
    @usableFromInline let raw: UnsafeMutableRawPointer
    @usableFromInline let count: Int
    let sizeClass: Int

    init<T>(count: Int, of type: T.Type) {
        precondition(count >= 0, "negative element count")
        let (p, cls) = BufferPool.shared.acquire(byteCount: count * MemoryLayout<T>.stride)
        p.bindMemory(to: T.self, capacity: max(count, 1))
        raw = p
        self.count = count
        sizeClass = cls
    }

    deinit { BufferPool.shared.release(raw, sizeClass: sizeClass) }

    @usableFromInline var floats: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
    @usableFromInline var int32s: UnsafeMutablePointer<Int32> { raw.assumingMemoryBound(to: Int32.self) }
}
