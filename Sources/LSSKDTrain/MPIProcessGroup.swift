import Foundation
import LSSKDNN

#if canImport(Glibc)
import Glibc
#endif

/// ``ProcessGroup`` over MPI, through the plugin `liblsskd_mpi.so` (kernels/mpi/lsskd_mpi.c,
/// `make -C kernels mpi`) loaded at run time: the tool builds and runs without MPI, and the
/// plugin is compiled against whichever MPI the machine has. Only the main thread calls MPI.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    /// The MPI implementation's version line ("Open MPI v4.1.4, …").
    public let libraryVersion: String
    /// The plugin's path.
    public let pluginPath: String

    private typealias InitFn = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
    private typealias VoidFn = @convention(c) () -> Int32
    private typealias AbortFn = @convention(c) (Int32) -> Void
    private typealias VersionFn = @convention(c) (UnsafeMutablePointer<CChar>, Int) -> Int32
    private typealias ErrorStringFn = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Void
    private typealias SumF32Fn = @convention(c) (UnsafeMutablePointer<Float>?, Int) -> Int32
    private typealias SumF64Fn = @convention(c) (UnsafeMutablePointer<Double>?, Int) -> Int32
    private typealias GatherFn = @convention(c) (UnsafeRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32
    private typealias GatherVFn = @convention(c) (UnsafeRawPointer?, Int, UnsafePointer<Int>, UnsafeMutableRawPointer?) -> Int32
    private typealias BcastFn = @convention(c) (UnsafeMutableRawPointer?, Int, Int32) -> Int32

    private let finalizeFn: VoidFn, abortFn: AbortFn, errorString: ErrorStringFn
    private let sumF32: SumF32Fn, sumF64: SumF64Fn, gather: GatherFn, gatherV: GatherVFn
    private let bcast: BcastFn, barrierFn: VoidFn

    /// The number of ranks the MPI launcher started (Open MPI's OMPI_COMM_WORLD_SIZE, or
    /// PMI_SIZE of MPICH's Hydra and Slurm); nil when not started by one.
    public static func launchedSize(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
            if let v = environment[key], let n = Int(v), n > 0 { return n }
        }
        return nil
    }

    /// Where the plugin is looked for: $LSSKD_MPI_LIB, then beside the executable, then
    /// kernels/build/ of every folder above it (a checkout's .build/…/release/lsskd).
    public static func pluginCandidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var out = [String]()
        if let p = environment["LSSKD_MPI_LIB"], !p.isEmpty { out.append(p) }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
        out.append(dir.appendingPathComponent("liblsskd_mpi.so").path)
        for _ in 0..<6 {
            out.append(dir.appendingPathComponent("kernels/build/liblsskd_mpi.so").path)
            let up = dir.deletingLastPathComponent()
            if up.path == dir.path { break }
            dir = up
        }
        return out
    }

    /// Loads the plugin and initialises MPI (MPI_Init_thread, funnelled).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let candidates = Self.pluginCandidates(environment: environment)
        guard let path = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
            throw TrainingError("started by an MPI launcher, but the MPI plugin liblsskd_mpi.so is not built (looked in: \(candidates.joined(separator: ", "))); build it with `make -C kernels mpi` (needs libopenmpi-dev) or set LSSKD_MPI_LIB")
        }
        // RTLD_GLOBAL: Open MPI loads its own components with dlopen, which need libmpi's symbols.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            throw TrainingError("cannot load the MPI plugin \(path): \(String(cString: dlerror()))")
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else { throw TrainingError("\(path) lacks \(name): rebuild it (make -C kernels mpi)") }
            return unsafeBitCast(p, to: type)
        }
        let abi = try symbol("lsskd_mpi_abi", VoidFn.self)()
        guard abi == 1 else { throw TrainingError("\(path) speaks plugin ABI \(abi), this tool needs 1: rebuild it (make -C kernels mpi)") }
        let initFn = try symbol("lsskd_mpi_init", InitFn.self)
        finalizeFn = try symbol("lsskd_mpi_finalize", VoidFn.self)
        abortFn = try symbol("lsskd_mpi_abort", AbortFn.self)
        errorString = try symbol("lsskd_mpi_error_string", ErrorStringFn.self)
        sumF32 = try symbol("lsskd_mpi_allreduce_sum_f32", SumF32Fn.self)
        sumF64 = try symbol("lsskd_mpi_allreduce_sum_f64", SumF64Fn.self)
        gather = try symbol("lsskd_mpi_allgather_bytes", GatherFn.self)
        gatherV = try symbol("lsskd_mpi_allgatherv_bytes", GatherVFn.self)
        bcast = try symbol("lsskd_mpi_broadcast_bytes", BcastFn.self)
        barrierFn = try symbol("lsskd_mpi_barrier", VoidFn.self)
        let version = try symbol("lsskd_mpi_version", VersionFn.self)
        var r: Int32 = 0, s: Int32 = 0
        let rc = initFn(&r, &s)
        guard rc == 0 else { throw TrainingError("MPI_Init_thread failed (error \(rc))") }
        rank = Int(r)
        size = Int(s)
        var buf = [CChar](repeating: 0, count: 512)
        _ = version(&buf, buf.count)
        libraryVersion = String(cString: buf).split(separator: "\n").first.map(String.init) ?? "MPI"
        pluginPath = path
    }

    private func check(_ rc: Int32, _ what: String) throws {
        guard rc != 0 else { return }
        var buf = [CChar](repeating: 0, count: 512)
        errorString(rc, &buf, buf.count)
        throw TrainingError("rank \(rank): MPI \(what) failed: \(String(cString: buf)) (error \(rc))")
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try check(sumF32(buffer.baseAddress, buffer.count), "all-reduce")
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try check(sumF64(buffer.baseAddress, buffer.count), "all-reduce")
    }

    public func allgather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
        precondition(receive.count == send.count * size, "allgather: the receive buffer must hold size × send bytes")
        try check(gather(send.baseAddress, send.count, receive.baseAddress), "all-gather")
    }

    public func allgather(_ send: UnsafeRawBufferPointer, counts: [Int], into receive: UnsafeMutableRawBufferPointer) throws {
        precondition(counts.count == size && counts[rank] == send.count && receive.count == counts.reduce(0, +),
                     "allgatherv: counts must list every rank's byte count")
        try check(counts.withUnsafeBufferPointer { gatherV(send.baseAddress, send.count, $0.baseAddress!, receive.baseAddress) }, "all-gather")
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try check(bcast(buffer.baseAddress, buffer.count, Int32(root)), "broadcast")
    }

    public func barrier() throws { try check(barrierFn(), "barrier") }

    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("lsskd: rank \(rank) of \(size): \(message)\n".utf8))
        fflush(stdout)
        abortFn(1)
        exit(1)
    }

    /// MPI_Finalize: every rank calls it once at the end of a successful job.
    public func finalize() { _ = finalizeFn() }
}
