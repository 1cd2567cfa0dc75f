import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

final class ONNXModelMessageTests: XCTestCase {
    func testUnpackThenPackIsByteIdentical() throws {
        for name in ONNXFixtures.cases + ONNXFixtures.modelOnlyCases {
            let bytes = try ONNXFixtures.modelBytes(name)
            let message = try ONNXModelMessage(bytes: bytes, file: name)
            XCTAssertTrue(try message.serialized() == bytes, "\(name): protobuf-c repacked different bytes")
        }
    }

    /// A field the schema leaves out (ModelProto 25 `functions`) survives as an unknown field.
    func testFieldOutsideTheSchemaSurvives() throws {
        var bytes = try ONNXFixtures.modelBytes("conv_bn")
        let unknown: [UInt8] = [0xCA, 0x01, 0x05] + Array("hello".utf8)  // tag (25 << 3 | 2) = 202
        bytes += unknown
        let message = try ONNXModelMessage(bytes: bytes, file: "x.onnx")
        XCTAssertEqual(try message.serialized(), bytes)
        XCTAssertEqual(try message.snapshot().nodes.count, 2)
    }

    func testSnapshotReadsGraphAndOpsets() throws {
        let snapshot = try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes("small_cnn"), file: "m").snapshot()
        let facts = try ONNXFixtures.facts("small_cnn")
        XCTAssertEqual(snapshot.nodes.count, facts["node_count"] as? Int)
        XCTAssertEqual(snapshot.initializers.count, facts["initializer_count"] as? Int)
        XCTAssertEqual(snapshot.opsetImports, [ONNXProto.OpsetImport(domain: "", version: 17)])
        XCTAssertEqual(snapshot.irVersion, Int64(facts["ir_version"] as? Int ?? -1))
        XCTAssertEqual(snapshot.inputs.map(\.name), ["input"])
        XCTAssertEqual(snapshot.inputs[0].dims, [.param("N"), .value(3), .value(8), .value(8)])
    }

    func testMessageWithoutGraphIsRefused() throws {
        let bytes: [UInt8] = [0x08, 0x07]  // ir_version = 7 only
        let message = try ONNXModelMessage(bytes: bytes, file: "nograph.onnx")
        XCTAssertThrowsError(try message.snapshot()) { error in
            XCTAssertEqual((error as? CheckpointError)?.description, "nograph.onnx: ModelProto: the model has no graph")
        }
    }
}
