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
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // DocC plugin: only `make docs` (swift package generate-documentation) uses it; builds never do.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C at the edge: system libraries from Debian's packages (installed by `make deps`).
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CProtobufC", path: "Sources/CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // protoc-c output for schemas/, written only by tools/gen-protos.
        .target(name: "CBNConvProto", dependencies: ["CProtobufC"], path: "Sources/CBNConvProto",
                cSettings: [.headerSearchPath("include")]),
        .target(name: "BNConv",
                dependencies: ["CHDF5", "CProtobufC", "CBLAS", "CBNConvProto",
                               .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .executableTarget(name: "bnconv",
                          dependencies: ["BNConv",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Tests find Tests/Fixtures through #filePath (see FixturePaths.swift); no resource bundle.
        .testTarget(name: "BNConvTests", dependencies: ["BNConv"]),
        .testTarget(name: "bnconvTests", dependencies: ["BNConv"]),
    ],
    swiftLanguageModes: [.v5]
)

// Fuzz driver (libFuzzer): added only when BNCONV_FUZZ is set, so `swift build` / `make test` never
// build it. `make fuzz` builds it into .build-fuzz with -sanitize=fuzzer,address (docs/robustness.md).
if Context.environment["BNCONV_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "bnconv-fuzz", dependencies: ["BNConv"], path: "Fuzz/Sources"))
    package.products.append(.executable(name: "bnconv-fuzz", targets: ["bnconv-fuzz"]))
}
