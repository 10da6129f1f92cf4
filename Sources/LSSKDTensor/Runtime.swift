internal import LSSKDKernels

/// Instruction-set paths of the kernels (mirrors `lsk_isa`).
public enum ISA: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case scalar = 0
    case avx2 = 1
    case avx512 = 2
    case neon = 3

    var c: lsk_isa { lsk_isa(rawValue: rawValue) }

    /// True if the library has this path and the CPU can run it.
    public var isSupported: Bool { lsk_isa_supported(c) != 0 }

    /// "scalar", "avx2", "avx512" or "neon".
    public var description: String { String(cString: lsk_isa_name(c)) }
}

/// Process-wide kernel settings (ISA path, threads). Change them only while no kernel
/// runs (the C library reads them without locks).
public enum Runtime {
    /// The path kernels use now.
    public static var isa: ISA { ISA(rawValue: lsk_get_isa().rawValue) ?? .scalar }

    /// Forces a path; `nil` restores the best available one.
    /// Throws ``KernelError`` (`.unsupported`) if the CPU or build lacks the path.
    public static func setISA(_ isa: ISA?) throws {
        let target = isa?.c ?? LSK_ISA_AUTO
        try KernelError.check(lsk_set_isa(target), "lsk_set_isa", isa.map { "\($0)" } ?? "auto")
    }

    /// Runs `body` with `isa` forced, then restores the previous path.
    public static func withISA<R>(_ isa: ISA, _ body: () throws -> R) throws -> R {
        let previous = Runtime.isa
        try setISA(isa)
        defer { try? setISA(previous) }
        return try body()
    }

    /// Paths this process can run.
    public static var supportedISAs: [ISA] { ISA.allCases.filter(\.isSupported) }

    /// Threads kernels use; setting a value <= 0 restores the default
    /// (LSK_NUM_THREADS, else the core count). Always 1 without OpenMP.
    public static var threadCount: Int {
        get { Int(lsk_get_num_threads()) }
        set { lsk_set_num_threads(Int32(clamping: newValue)) }
    }

    /// Version of the C library, "MAJOR.MINOR.PATCH".
    public static var kernelVersion: String { String(cString: lsk_version()) }
}
