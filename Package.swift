// swift-tools-version:6.0
import PackageDescription

/// bnconv: fold BatchNorm, switch layouts and move checkpoints between Keras, TensorFlow and ONNX,
/// with a built-in engine that proves the numbers did not change.
let package = Package(
    name: "bnconv",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "BNConv", targets: ["BNConv"]),
        .executable(name: "bnconv", targets: ["bnconv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Tests only: the `.keras` writer's archives are checked against ZIPFoundation's, byte for byte.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // DocC plugin: `swift package generate-documentation --target <one layer>`; builds never use it.
        // `make docs` documents the umbrella with docc directly (tools/docs says why).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C at the edge: system libraries from Debian's packages (installed by `make deps`).
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CProtobufC", path: "Sources/CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        // zlib (Debian's zlib1g-dev): raw-deflate inflation and CRC-32 for .keras archives.
        .systemLibrary(name: "CZlibInflate", path: "Sources/CZlibInflate", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // protoc-c output for schemas/, written only by tools/gen-protos.
        .target(name: "CBNConvProto", dependencies: ["CProtobufC"], path: "Sources/CBNConvProto",
                cSettings: [.headerSearchPath("include")]),
        // The library, one target per layer; a target imports only the layers below it, so a
        // wrong-way import does not compile (docs/architecture.md).
        .target(name: "BNConvCore"),
        .target(name: "BNConvInterop", dependencies: ["BNConvCore", "CHDF5", "CProtobufC", "CBNConvProto", "CZlibInflate"]),
        .target(name: "BNConvModel", dependencies: ["BNConvCore"]),
        .target(name: "BNConvPasses", dependencies: ["BNConvModel"]),
        // The op library: ONNX operator semantics on in-memory tensors (no C, no BLAS).
        .target(name: "BNConvOps", dependencies: ["BNConvModel"]),
        .target(name: "BNConvEngine", dependencies: ["BNConvModel", "BNConvOps", "BNConvInterop"]),
        .target(name: "BNConvFormats", dependencies: ["BNConvModel", "BNConvOps", "BNConvInterop"]),
        .target(name: "BNConvVerify", dependencies: ["BNConvEngine"]),
        .target(name: "BNConvCalibration", dependencies: ["BNConvEngine"]),
        .target(name: "BNConvPipeline",
                dependencies: ["BNConvFormats", "BNConvPasses", "BNConvVerify", "BNConvCalibration"]),
        // The umbrella: `import BNConv` re-exports the public API of every layer.
        .target(name: "BNConv", dependencies: ["BNConvPipeline"]),
        .executableTarget(name: "bnconv",
                          dependencies: ["BNConv",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Tests mirror the targets and find Tests/Fixtures through #filePath (FixturePaths.swift).
        .target(name: "BNConvTestSupport", dependencies: ["BNConv"], path: "Tests/BNConvTestSupport"),
        .testTarget(name: "BNConvCoreTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvInteropTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvModelTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvPassesTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvOpsTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvEngineTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvFormatsTests",
                    dependencies: ["BNConvTestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "BNConvVerifyTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvCalibrationTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "BNConvPipelineTests", dependencies: ["BNConvTestSupport"]),
        .testTarget(name: "bnconvTests", dependencies: ["BNConvTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz driver (libFuzzer): added only when BNCONV_FUZZ is set, so `swift build` / `make test` never
// build it. `make fuzz` builds it into .build-fuzz with -sanitize=fuzzer,address (docs/robustness.md).
if Context.environment["BNCONV_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "bnconv-fuzz", dependencies: ["BNConv", "BNConvFormats", "BNConvInterop"], path: "Fuzz/Sources"))
    package.products.append(.executable(name: "bnconv-fuzz", targets: ["bnconv-fuzz"]))
}
