internal import LSSKDKernels

/// A dense, row-major float32 array with a shape (images are `[N, C, H, W]`).
///
/// `Tensor` is a value type: copies share one pooled buffer (see ``BufferPool``) and
/// the first mutation of a shared buffer copies it (copy-on-write). The element count is
/// the product of the shape (1 for the scalar shape `[]`). Reshaping never copies.
public struct Tensor {
    /// Dimensions, outermost first.
    public private(set) var shape: [Int]
    @usableFromInline var storage: PooledStorage

    // MARK: - Creation

    /// A tensor whose contents are undefined (a pooled block is reused as is). For
    /// outputs that a kernel overwrites.
    public init(uninitialized shape: [Int]) {
        let n = Tensor.elementCount(shape)
        self.shape = shape
        storage = PooledStorage(count: n, of: Float.self)
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        if count > 0 { _ = lsk_fill(storage.floats, value, count) }
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A tensor of ones.
    public init(ones shape: [Int]) { self.init(repeating: 1, shape: shape) }

    /// A tensor holding `scalars` (row-major). Traps if the count does not match the
    /// shape (a programming error); use ``init(validating:shape:)`` for untrusted data.
    public init(shape: [Int], scalars: [Float]) {
        precondition(Tensor.elementCount(shape) == scalars.count,
                     "Tensor(shape: \(shape)) needs \(Tensor.elementCount(shape)) scalars, got \(scalars.count)")
        self.init(uninitialized: shape)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress, count > 0 { storage.floats.update(from: base, count: count) }
        }
    }

    /// Like ``init(shape:scalars:)`` but throws ``KernelError`` on a count mismatch.
    public init(validating scalars: [Float], shape: [Int]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), Tensor.elementCount(shape) == scalars.count else {
            throw KernelError(operation: "Tensor.init", status: .invalidArgument,
                              detail: "shape \(shape) does not hold \(scalars.count) scalars")
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// A scalar (shape `[]`).
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// Product of `shape` (1 for `[]`). Traps on negative dimensions.
    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    // MARK: - Properties

    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// The elements, row-major (a copy).
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.floats, count: count))
    }
    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with \(count) elements")
        return storage.floats[0]
    }

    /// Element `i` in row-major order (for tests and bookkeeping; not for hot loops).
    public subscript(flat i: Int) -> Float {
        get {
            precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
            return storage.floats[i]
        }
        set {
            precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
            mutablePointer[i] = newValue
        }
    }

    /// True if both tensors use the same buffer (a copy not yet written to).
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    // MARK: - Access

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeBufferPointer(start: storage.floats, count: count))
        }
    }

    /// Copies the buffer first if it is shared (copy-on-write).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        let p = mutablePointer
        return try withExtendedLifetime(storage) {
            try body(UnsafeMutableBufferPointer(start: p, count: count))
        }
    }

    /// Read pointer; valid while this tensor (or a copy sharing the buffer) is alive.
    var pointer: UnsafePointer<Float> { UnsafePointer(storage.floats) }

    /// Write pointer after making the buffer unique; valid while this value is alive
    /// and not copied.
    var mutablePointer: UnsafeMutablePointer<Float> {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) {
                let fresh = PooledStorage(count: count, of: Float.self)
                if count > 0 { fresh.floats.update(from: storage.floats, count: count) }
                storage = fresh
            }
            return storage.floats
        }
    }

    // MARK: - Shape

    /// The same elements with another shape (shares the buffer). One dimension may be -1
    /// (inferred). Throws ``KernelError`` if the counts differ.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var shape = newShape
        let inferred = shape.indices.filter { shape[$0] == -1 }
        guard inferred.count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw KernelError(operation: "Tensor.reshaped", status: .invalidArgument,
                              detail: "invalid shape \(newShape)")
        }
        if let i = inferred.first {
            let known = shape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                throw KernelError(operation: "Tensor.reshaped", status: .invalidArgument,
                                  detail: "cannot infer a dimension of \(newShape) for \(count) elements")
            }
            shape[i] = count / known
        }
        guard Tensor.elementCount(shape) == count else {
            throw KernelError(operation: "Tensor.reshaped", status: .invalidArgument,
                              detail: "shape \(newShape) does not hold \(count) elements (shape \(self.shape))")
        }
        var t = self
        t.shape = shape
        return t
    }

    // MARK: - In-place helpers (kernel-backed)

    /// Sets every element to `value` (lsk_fill).
    public mutating func fill(_ value: Float) {
        if count > 0 { _ = lsk_fill(mutablePointer, value, count) }
    }

    /// Copies the elements of `other` (same element count) into this tensor's buffer,
    /// keeping this tensor's shape and buffer.
    public mutating func assign(_ other: Tensor) throws {
        guard other.count == count else {
            throw KernelError(operation: "Tensor.assign", status: .invalidArgument,
                              detail: "\(other.count) elements into \(count)")
        }
        if storage === other.storage { return }
        if count > 0 { mutablePointer.update(from: other.storage.floats, count: count) }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = count <= 8 ? scalars.map { "\($0)" }.joined(separator: ", ")
            : (0..<6).map { "\(storage.floats[$0])" }.joined(separator: ", ") + ", …"
        return "Tensor(\(shape): [\(shown)])"
    }
}

/// A dense int32 array with a shape: the argmax indices of max pooling.
public struct IndexTensor {
    public private(set) var shape: [Int]
    var storage: PooledStorage

    /// Contents undefined until a kernel writes them.
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        storage = PooledStorage(count: Tensor.elementCount(shape), of: Int32.self)
    }

    public var count: Int { storage.count }
    public var scalars: [Int32] { Array(UnsafeBufferPointer(start: storage.int32s, count: count)) }

    var pointer: UnsafePointer<Int32> { UnsafePointer(storage.int32s) }
    var mutablePointer: UnsafeMutablePointer<Int32> {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) {
                let fresh = PooledStorage(count: count, of: Int32.self)
                if count > 0 { fresh.int32s.update(from: storage.int32s, count: count) }
                storage = fresh
            }
            return storage.int32s
        }
    }
}
