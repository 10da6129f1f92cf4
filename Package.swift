// swift-tools-version:6.0
import PackageDescription
import Foundation

// MARK: - Build switches
// OpenMP needs unsafe flags (-fopenmp, link libomp from Debian's libomp-dev), and a
// package with unsafe flags cannot be used as a remote dependency. LSSKD_NO_OPENMP=1
// builds a single-threaded library with no unsafe flags.
let useOpenMP = ProcessInfo.processInfo.environment["LSSKD_NO_OPENMP"] == nil

#if os(Linux)
// Debian's libomp-dev: /usr/lib/llvm-N/lib/libomp.so, whichever N is installed (newest first).
let ompLibDir: String = {
    let llvm = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
    let dirs = llvm.filter { $0.hasPrefix("llvm-") }
        .sorted { (Int($0.dropFirst(5)) ?? 0) > (Int($1.dropFirst(5)) ?? 0) }
        .map { "/usr/lib/\($0)/lib" }
    return dirs.first { FileManager.default.fileExists(atPath: $0 + "/libomp.so") } ?? "/usr/lib/llvm-14/lib"
}()
#else
let ompLibDir = "/opt/homebrew/opt/libomp/lib"
#endif

// SwiftPM compiles C at -O0 in debug builds; kernels are always optimised so that
// tests and debug runs of the trainer are usable.
let kernelCFlags: [String] = useOpenMP ? ["-O2", "-fopenmp"] : ["-O2"]
let kernelLinkFlags: [String] = useOpenMP ? ["-L\(ompLibDir)", "-Xlinker", "-rpath", "-Xlinker", ompLibDir] : []

// Every folder of kernels/ that holds library sources; a new kernel family adds its folder here.
let kernelSourceFolders = ["dispatch", "ref", "ops", "gemm", "conv", "eltwise", "norm", "pool", "loss", "shuffle", "dwconv", "winograd", "runtime"]

let package = Package(
    name: "LSSKD",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lsskd", targets: ["lsskd"]),
        .library(name: "LSSKDKernels", targets: ["LSSKDKernels"]),
        .library(name: "LSSKDTensor", targets: ["LSSKDTensor"]),
        .library(name: "LSSKDNN", targets: ["LSSKDNN"]),
        .library(name: "LSSKDData", targets: ["LSSKDData"]),
        .library(name: "LSSKDModels", targets: ["LSSKDModels"]),
        .library(name: "LSSKDTrain", targets: ["LSSKDTrain"]),
        .library(name: "LSSKDDistill", targets: ["LSSKDDistill"]),
        .library(name: "LSSKDDeploy", targets: ["LSSKDDeploy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // TensorBoard event files (and, later, ONNX): generated message code is committed.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: - C kernels (no Swift needed to build or use them: see kernels/Makefile)
        .target(
            name: "LSSKDKernels",
            path: ".",
            // Source folders are listed (not all of kernels/) so that the Makefile's build
            // folders (kernels/build*) and the C test program stay out of the library.
            sources: kernelSourceFolders.map { "kernels/" + $0 },
            publicHeadersPath: "include",
            cSettings: [.unsafeFlags(kernelCFlags)],
            linkerSettings: useOpenMP
                ? [.linkedLibrary("omp"), .unsafeFlags(kernelLinkFlags)]
                : []
        ),

        // MARK: - Swift layers
        // The tensor layer is the only module that imports the C kernels.
        .target(name: "LSSKDTensor", dependencies: ["LSSKDKernels"]),
        // Autograd, modules, layers, losses, optimisers, schedules.
        .target(name: "LSSKDNN", dependencies: ["LSSKDTensor"]),
        // Dataset files (IDX, CIFAR binary; gzip through zlib from Debian's zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // PNG/JPEG codecs for image folders (Debian's libpng-dev and libjpeg62-turbo-dev);
        // C so that libjpeg's setjmp/longjmp error handling never crosses Swift frames.
        .target(name: "CImageCodecs", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        .target(name: "LSSKDData", dependencies: ["CZlib", "CImageCodecs", "LSSKDTensor"]),
        // Model definitions (stage taps for the distillation branches come with the CIFAR models).
        .target(name: "LSSKDModels", dependencies: ["LSSKDNN"]),
        // Training loops, evaluation, metrics.
        .target(name: "LSSKDTrain", dependencies: ["LSSKDNN", "LSSKDData", "CZlib",
                                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Deployment: the inference graph of a trained model (batch norm folded), its forms for
        // the C runtime (include/lsk_model.h), ONNX and safetensors, and the runtime from Swift.
        // Imports the C library for its runtime API only (the kernels stay behind LSSKDTensor).
        .target(name: "LSSKDDeploy", dependencies: ["LSSKDKernels", "LSSKDModels", "LSSKDTrain",
                                                    .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Training methods behind one protocol: CE/LS (in LSSKDTrain), PS-KD, SAD, LSSKD.
        .target(name: "LSSKDDistill", dependencies: ["LSSKDTrain", "LSSKDModels"]),
        // The command-line tool.
        .executableTarget(
            name: "lsskd",
            dependencies: [
                "LSSKDNN", "LSSKDData", "LSSKDModels", "LSSKDTrain", "LSSKDDistill", "LSSKDDeploy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests
        // The C test cases (kernels/tests) compiled as a library, so that `swift test`
        // and `make -C kernels test` run the same list of cases.
        .target(
            name: "_LSSKDKernelTestCases",
            dependencies: ["LSSKDKernels"],
            path: "kernels/tests",
            exclude: ["main.c"],
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-O1"])]
        ),
        .testTarget(name: "LSSKDKernelsTests", dependencies: ["LSSKDKernels", "_LSSKDKernelTestCases"]),
        .testTarget(name: "LSSKDTensorTests", dependencies: ["LSSKDTensor"]),
        .testTarget(name: "LSSKDNNTests", dependencies: ["LSSKDNN"]),
        .testTarget(name: "LSSKDDataTests", dependencies: ["LSSKDData"]),
        .testTarget(name: "LSSKDModelsTests", dependencies: ["LSSKDModels"]),
        .testTarget(name: "LSSKDTrainTests", dependencies: ["LSSKDTrain", "LSSKDModels"]),
        .testTarget(name: "LSSKDDeployTests", dependencies: ["LSSKDDeploy", "LSSKDModels", "LSSKDTrain", "LSSKDData"]),
        .testTarget(name: "LSSKDDistillTests", dependencies: ["LSSKDDistill", "LSSKDTrain", "LSSKDModels"]),
        // The command-line tool in process: run folders, records, refusals, --config, --json.
        .testTarget(name: "LSSKDCLITests", dependencies: ["lsskd", "LSSKDTrain"]),
    ],
    swiftLanguageModes: [.v5]
)
