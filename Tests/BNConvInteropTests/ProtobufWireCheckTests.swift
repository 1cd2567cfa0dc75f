import CBNConvProto
import XCTest
@testable import BNConvInterop
@testable import BNConvTestSupport

final class ProtobufWireCheckTests: XCTestCase {
    private func onnxProblem(_ bytes: [UInt8]) -> String? {
        withUnsafePointer(to: onnx__model_proto__descriptor) { ProtobufWireCheck.firstProblem(in: bytes, descriptor: $0) }
    }

    private func graphDefProblem(_ bytes: [UInt8]) -> String? {
        withUnsafePointer(to: tensorflow__graph_def__descriptor) { ProtobufWireCheck.firstProblem(in: bytes, descriptor: $0) }
    }

    func testWellFormedFixturesHaveNoProblem() throws {
        XCTAssertNil(onnxProblem(try ONNXFixtures.modelBytes("conv_bn")))
        XCTAssertNil(onnxProblem(try ONNXFixtures.modelBytes("mobilenet_block")))
        XCTAssertNil(graphDefProblem(try TensorFlowFixtures.bytes("conv_bias_bn")))
    }

    func testEmptyInput() {
        XCTAssertEqual(onnxProblem([]), "the file is empty")
    }

    func testLengthPrefixPastTheEndNamesFieldAndSizes() {
        // field 7 (graph), wire type 2, length 0xFFFFFFFF, then 3 bytes.
        let bytes: [UInt8] = [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3]
        XCTAssertEqual(onnxProblem(bytes),
                       "field 7 at byte 0 declares 4294967295 bytes but only 3 remain (truncated, or not a protobuf file)")
    }

    /// A length that fits the file but not the message around it is found too (the old top-level
    /// walk saw only the outer message).
    func testLengthPastTheEndOfTheEnclosingMessage() {
        let inner = WireBytes.string(2, "g") // GraphProto.name
        var graph = WireBytes.bytes(7, inner)
        graph[1] = UInt8(inner.count - 1) // the graph now ends one byte early: its name runs past it
        XCTAssertEqual(onnxProblem(graph + [0x08, 0x01]),
                       "field 2 at byte 2 declares 1 bytes but only 0 remain (in onnx.GraphProto, nested 2 deep) (truncated, or not a protobuf file)")
    }

    func testTruncatedVarint() {
        XCTAssertEqual(onnxProblem([0x08, 0x80]), "field 1 at byte 0: truncated varint")
    }

    func testInvalidWireType() {
        XCTAssertEqual(onnxProblem([0x0F]), "field 1 at byte 0 has invalid wire type 7")
    }

    func testFieldNumberZero() {
        XCTAssertEqual(onnxProblem([0x00, 0x01]), "invalid field number 0 at byte 0")
    }

    /// The attack of issue #21: a TypeProto 10,000 deep in a `value_info` crashed protobuf-c's
    /// recursive unpack. Nesting is bounded at 100 messages, like protobuf C++.
    func testDeepTypeProtoIsRefusedAtTheDepthBound() throws {
        let deep = WireBytes.onnxModel(graph: WireBytes.string(2, "g")
            + WireBytes.bytes(13, WireBytes.string(1, "x") + WireBytes.bytes(2, WireBytes.onnxNestedType(depth: 10_000))))
        let problem = try XCTUnwrap(onnxProblem(deep))
        XCTAssertTrue(problem.hasPrefix("messages are nested more than 100 deep at byte "), problem)
        // Model, graph, value_info and TypeProto are 4 levels, each wrap adds Sequence + TypeProto,
        // and the innermost Tensor is one more: 47 wraps make 99 levels, 48 make 101.
        func model(depth: Int) -> [UInt8] {
            WireBytes.onnxModel(graph: WireBytes.bytes(13, WireBytes.bytes(2, WireBytes.onnxNestedType(depth: depth))))
        }
        XCTAssertNil(onnxProblem(model(depth: 47)))
        XCTAssertNotNil(onnxProblem(model(depth: 48)))
    }

    func testDeepIfSubgraphsAreRefused() throws {
        let problem = try XCTUnwrap(onnxProblem(WireBytes.onnxModel(graph: WireBytes.onnxNestedIf(depth: 10_000))))
        XCTAssertTrue(problem.contains("nested more than 100 deep"), problem)
        XCTAssertNil(onnxProblem(WireBytes.onnxModel(graph: WireBytes.onnxNestedIf(depth: 20))))
    }

    func testDeepGraphDefFunctionAttributeIsRefused() throws {
        let graph = WireBytes.tfNode("n", op: "NoOp", attributes: WireBytes.tfAttribute("f", WireBytes.tfNestedFunctionAttribute(depth: 10_000)))
        let problem = try XCTUnwrap(graphDefProblem(graph))
        XCTAssertTrue(problem.contains("nested more than 100 deep"), problem)
        XCTAssertTrue(problem.contains("tensorflow."), problem)
    }

    /// A `bytes` field is not entered even when its content is not a message: the walk follows
    /// the schema, so raw tensor data is skipped whole.
    func testBytesFieldsAreNotParsedAsMessages() {
        let tensor = WireBytes.int(1, 1) + WireBytes.int(2, 1) + WireBytes.bytes(9, [0xFF, 0xFF, 0xFF, 0xFF]) // raw_data
        XCTAssertNil(onnxProblem(WireBytes.onnxModel(graph: WireBytes.bytes(5, tensor))))
    }
}
