import CBNConvProto
import XCTest
@testable import BNConvInterop
@testable import BNConvTestSupport

final class ProtobufMessageTests: XCTestCase {
    private func unpackModel(_ bytes: [UInt8]) -> ProtobufMessage? {
        ProtobufMessage(bytes: bytes, unpack: { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) })
    }

    func testOwnsAndRepacksAnyGeneratedMessage() throws {
        let bytes = try ONNXFixtures.modelBytes("small_cnn")
        let message = try XCTUnwrap(unpackModel(bytes))
        XCTAssertEqual(message.packed(), bytes)
        XCTAssertEqual(message.root(as: Onnx__ModelProto.self).pointee.graph?.pointee.n_node, 10)
    }

    func testRefusedBytesGiveNil() {
        XCTAssertNil(unpackModel([0x3A, 0x10, 0x01]))
    }

    func testAllocationHelpersRoundTripStrings() {
        let (n, p) = ProtobufCAllocation.strings(["a", "", "ünï"])
        XCTAssertEqual(ProtobufCAllocation.strings(p, n), ["a", "", "ünï"])
        ProtobufCAllocation.freeStrings(p, n)
        let (zero, none) = ProtobufCAllocation.strings([])
        XCTAssertEqual(zero, 0)
        XCTAssertNil(none)
    }
}
