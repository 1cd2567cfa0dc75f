@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Every reader checks the limits it is handed in ``ReadOptions`` (no process-wide setting): the
/// same file reads with the defaults and is refused, naming the cap, under a tiny one.
final class ReadOptionsTests: XCTestCase {
    private let tiny = ReadOptions(limits: ReadLimits(maxTensorBytes: 8))

    private func assertCapped(_ relative: String, config: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = FixturePaths.url(relative).path
        let configPath = config.map { FixturePaths.url($0).path }
        XCTAssertNoThrow(try Checkpoint.read(path, config: configPath), relative, file: file, line: line)
        XCTAssertThrowsError(try Checkpoint.read(path, config: configPath, options: tiny), relative, file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains("8-byte cap for one tensor"), "\(error)", file: file, line: line)
        }
        // And again with the defaults: the tiny cap was not left behind anywhere.
        XCTAssertNoThrow(try Checkpoint.read(path, config: configPath), relative, file: file, line: line)
    }

    func testEveryReaderChecksTheLimitsItIsGiven() throws {
        try assertCapped("keras/conv2d_bias_bn/keras2.h5")
        try assertCapped("keras/conv2d_bias_bn/keras3.keras")
        try assertCapped("keras/conv2d_bias_bn/keras3.weights.h5", config: "keras/conv2d_bias_bn/keras3.json")
        try assertCapped("tensorflow/conv_bias_bn/graph.pb")
        try assertCapped("onnx/conv_bn/model.onnx")
    }

    func testDeferredWeightsAreCheckedWhenDeferred() throws {
        let path = FixturePaths.url("keras/conv2d_bias_bn/keras2.h5").path
        XCTAssertThrowsError(try KerasReader.readHDF5(path, configPath: nil, deferringFrom: 0, options: tiny)) { error in
            XCTAssertTrue("\(error)".contains("8-byte cap"), "\(error)")
        }
    }

    func testNumPyReadsTakeLimits() throws {
        let path = FixturePaths.url("keras/conv2d_bias_bn/input.npy").path
        XCTAssertNoThrow(try NumPyFile.read(path))
        XCTAssertThrowsError(try NumPyFile.read(path, limits: tiny.limits)) { error in
            XCTAssertTrue("\(error)".contains("8-byte cap"), "\(error)")
        }
    }
}
