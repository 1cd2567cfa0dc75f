import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Const decoding against the values TensorFlow's own kernel produced for the same TensorProtos
/// (Tests/Fixtures/tensorflow/constants: tensor_content, full / short / empty value lists, half
/// and bfloat16 bits in int32 slots).
final class GraphDefTensorCodecTests: XCTestCase {
    struct Expected: Decodable {
        var dtype: String
        var shape: [Int]
        var values: [Double]
    }

    private func constants() throws -> (nodes: [ProtobufNodeDef], expected: [String: Expected]) {
        let bytes = try [UInt8](Data(contentsOf: FixturePaths.url("tensorflow/constants/graph.pb")))
        let nodes = try ProtobufGraphDef(bytes: bytes, file: "constants").nodeDefs()
        let json = try Data(contentsOf: FixturePaths.url("tensorflow/constants/values.json"))
        return (nodes, try JSONDecoder().decode([String: Expected].self, from: json))
    }

    private func decode(_ node: ProtobufNodeDef) throws -> Tensor {
        guard case .tensor(let proto)? = node.attribute("value") else { throw XCTSkip("no tensor in \(node.name)") }
        return try GraphDefTensorCodec.decode(proto, file: "constants", place: node.name, limits: ReadLimits())
    }

    /// Every constant decodes to TensorFlow's dtype, shape and values, including the repeat-last
    /// rule for short lists, zeros for an empty list and half/bfloat16 bit patterns.
    func testConstantsMatchTensorFlow() throws {
        let (nodes, expected) = try constants()
        XCTAssertEqual(Set(nodes.map(\.name)), Set(expected.keys))
        for node in nodes {
            let want = try XCTUnwrap(expected[node.name])
            let tensor = try decode(node)
            XCTAssertEqual(tensor.dtype.rawValue, want.dtype, node.name)
            XCTAssertEqual(tensor.shape, want.shape, node.name)
            XCTAssertEqual(tensor.doubles(), want.values, node.name)
        }
        let short = try decode(try XCTUnwrap(nodes.first { $0.name == "float_short" }))
        XCTAssertEqual(short.floats().suffix(4), [-2.5, -2.5, -2.5, -2.5], "a short list repeats its last value")
    }

    /// Encoding writes tensor_content in the tensor's dtype and decodes back bit for bit, also
    /// with stored dims that differ from the tensor's shape.
    func testEncodeRoundTrip() throws {
        let (nodes, _) = try constants()
        for node in nodes {
            let tensor = try decode(node)
            let proto = GraphDefTensorCodec.encode(tensor)
            XCTAssertEqual(Array(proto.content), tensor.bytes, node.name)
            XCTAssertEqual(try GraphDefTensorCodec.decode(proto, file: "x", place: node.name, limits: ReadLimits()), tensor, node.name)
        }
        let vector = Tensor(shape: [4], floats: [1, 2, 3, 4])
        let proto = GraphDefTensorCodec.encode(vector, dims: [1, 1, 1, 4])
        XCTAssertEqual(try GraphDefTensorCodec.decode(proto, file: "x", place: "v", limits: ReadLimits()).shape, [1, 1, 1, 4])
    }

    /// Content whose size does not match the shape, and too many list values, are malformed.
    func testInconsistentTensorsAreRefused() {
        let badContent = ProtobufTensorProto(dtype: 1, shape: [3], content: [0, 0, 0, 0])
        XCTAssertEqual(TensorFlowFixtures.checkpointError {
            _ = try GraphDefTensorCodec.decode(badContent, file: "g.pb", place: "c", limits: ReadLimits())
        }?.description, "g.pb: c: tensor_content has 4 bytes but shape [3] of float32 needs 12")
        let tooMany = ProtobufTensorProto(dtype: 1, shape: [1], floatValues: [1, 2])
        XCTAssertEqual(TensorFlowFixtures.checkpointError {
            _ = try GraphDefTensorCodec.decode(tooMany, file: "g.pb", place: "c", limits: ReadLimits())
        }?.kind, .malformed)
        let strings = ProtobufTensorProto(dtype: 7, shape: [1])
        XCTAssertEqual(TensorFlowFixtures.checkpointError {
            _ = try GraphDefTensorCodec.decode(strings, file: "g.pb", place: "c", limits: ReadLimits())
        }?.kind, .unsupported)
    }

    /// A splat over a shape too large to hold (or to multiply without overflow) is refused, not expanded.
    func testHugeShapesAreRefused() {
        for dims: [Int64] in [[1 << 40, 1 << 40], [1 << 20, 1 << 20, 4]] {
            let splat = ProtobufTensorProto(dtype: 1, shape: dims, floatValues: [1])
            let error = TensorFlowFixtures.checkpointError { _ = try GraphDefTensorCodec.decode(splat, file: "g.pb", place: "c", limits: ReadLimits()) }
            XCTAssertEqual(error?.kind, .unsupported)
            XCTAssertTrue(error?.problem.contains("too large") ?? false, error?.description ?? "")
        }
    }
}
