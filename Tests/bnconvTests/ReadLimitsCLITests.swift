@testable import BNConvTestSupport
import Foundation
import XCTest

/// The command line takes the cap on one tensor from `BNCONV_MAX_TENSOR_BYTES` (the library reads
/// no environment; the CLI passes the limits in).
final class ReadLimitsCLITests: XCTestCase {
    func testEnvironmentCapsEveryTensorTheCommandReads() throws {
        let path = FixturePaths.url("onnx/conv_bn/model.onnx").path
        let capped = try CLIRunner.run(["inspect", path], environment: ["BNCONV_MAX_TENSOR_BYTES": "8"])
        XCTAssertEqual(capped.status, 1, capped.stderr)
        XCTAssertTrue(capped.stderr.contains("8-byte cap for one tensor (BNCONV_MAX_TENSOR_BYTES, --allow-large)"), capped.stderr)

        let plain = try CLIRunner.run(["inspect", path])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let unusable = try CLIRunner.run(["inspect", path], environment: ["BNCONV_MAX_TENSOR_BYTES": "not a number"])
        XCTAssertEqual(unusable.status, 0, "an unusable value leaves the default: \(unusable.stderr)")
        let lifted = try CLIRunner.run(["inspect", path, "--allow-large"], environment: ["BNCONV_MAX_TENSOR_BYTES": "8"])
        XCTAssertEqual(lifted.status, 0, "--allow-large lifts the caps: \(lifted.stderr)")
    }

    /// A GraphDef Const whose one value TensorFlow repeats to 4 GiB, in a file of about 100 bytes:
    /// refused by the declared-bytes allowance (100x the file or 64 MiB) before anything is
    /// decoded; `BNCONV_MAX_EXPANSION` and `--allow-large` raise it.
    func testDeclaredBytesAreCappedAgainstTheFileSize() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("splat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("splat.pb").path
        let graph = WireBytes.tfPlaceholder("x", dims: [1, 4]) + WireBytes.tfSplatConstant("c", dims: [1, 1, 1, 1 << 30])
        try Data(graph).write(to: URL(fileURLWithPath: path))
        let refused = try CLIRunner.run(["inspect", path])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertEqual(refused.stderr, "bnconv: error: \(path): the Const nodes declare 4294967296 bytes in all, more than the 67108864 bytes allowed for a \(graph.count)-byte file (100x the file or 64 MiB; BNCONV_MAX_EXPANSION, --allow-large)\n")
        // A small splat (16 MiB) is within the floor.
        let small = dir.appendingPathComponent("small.pb").path
        try Data(WireBytes.tfPlaceholder("x", dims: [1, 4]) + WireBytes.tfSplatConstant("c", dims: [1, 1 << 22])).write(to: URL(fileURLWithPath: small))
        XCTAssertEqual(try CLIRunner.run(["inspect", small]).status, 0)
        let raised = try CLIRunner.run(["inspect", path], environment: ["BNCONV_MAX_EXPANSION": "100000000"])
        XCTAssertEqual(raised.status, 0, raised.stderr)
        XCTAssertEqual(try CLIRunner.run(["inspect", path, "--allow-large"]).status, 0)
    }

    func testEnvironmentCapsNumPyInputs() throws {
        let model = FixturePaths.url("onnx/conv_bn/model.onnx").path
        let input = FixturePaths.url("onnx/conv_bn/input.npy").path
        let bytes = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int)
        // Room for every weight of the model, not for the input array.
        let cap = String(bytes - 200)
        let result = try CLIRunner.run(["run", model, "--input", input], environment: ["BNCONV_MAX_TENSOR_BYTES": cap])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("-byte cap for one tensor"), result.stderr)
        XCTAssertTrue(result.stderr.contains("input.npy"), result.stderr)
    }

    /// A graph's node count is capped before its nodes are read (`BNCONV_MAX_NODES`, default 2^20;
    /// `--allow-large` lifts it), in GraphDef and ONNX.
    func testNodeCountIsCapped() throws {
        for path in [FixturePaths.url("tensorflow/conv_bias_bn/graph.pb").path, FixturePaths.url("onnx/conv_bn/model.onnx").path] {
            let capped = try CLIRunner.run(["inspect", path], environment: ["BNCONV_MAX_NODES": "1"])
            XCTAssertEqual(capped.status, 1, capped.stderr)
            XCTAssertTrue(capped.stderr.hasPrefix("bnconv: error: \(path): the graph has "), capped.stderr)
            XCTAssertTrue(capped.stderr.hasSuffix(" nodes, more than the 1 bnconv reads (BNCONV_MAX_NODES, --allow-large)\n"), capped.stderr)
            XCTAssertEqual(try CLIRunner.run(["inspect", path, "--allow-large"], environment: ["BNCONV_MAX_NODES": "1"]).status, 0)
            XCTAssertEqual(try CLIRunner.run(["inspect", path]).status, 0)
        }
    }
}
