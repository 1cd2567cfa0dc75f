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
        XCTAssertTrue(capped.stderr.contains("8-byte cap for one tensor (BNCONV_MAX_TENSOR_BYTES)"), capped.stderr)

        let plain = try CLIRunner.run(["inspect", path])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let unusable = try CLIRunner.run(["inspect", path], environment: ["BNCONV_MAX_TENSOR_BYTES": "not a number"])
        XCTAssertEqual(unusable.status, 0, "an unusable value leaves the default: \(unusable.stderr)")
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
}
