import Foundation
import XCTest
@testable import BNConvFormats
@testable import BNConvTestSupport

/// An untouched ONNX model must come back byte for byte: unknown fields, attribute order,
/// doc strings and value_info all survive the protobuf-c unpack / edit / pack path.
final class ONNXRoundTripTests: XCTestCase {
    func testEveryFixtureRoundTripsByteIdentical() throws {
        for name in ONNXFixtures.cases + ONNXFixtures.modelOnlyCases {
            let original = try ONNXFixtures.modelBytes(name)
            let model = try ONNXFixtures.read(name)
            let written = try ONNXWriter.serialize(model, file: "\(name)/out.onnx")
            XCTAssertEqual(written.count, original.count, "\(name): size")
            XCTAssertTrue(written == original, "\(name): bytes differ")
        }
    }

    func testWriteToFileIsByteIdenticalAndLeavesNoTemporaryFile() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("small_cnn.onnx")
        try ONNXWriter.write(try ONNXFixtures.read("small_cnn"), to: target.path)
        XCTAssertEqual([UInt8](try Data(contentsOf: target)), try ONNXFixtures.modelBytes("small_cnn"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["small_cnn.onnx"])
    }
}
