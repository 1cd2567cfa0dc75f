import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// The protobuf-c GraphDef wrapper: byte-identical repacking, edits that survive a repack, and
/// clear errors (no crash) for truncated or foreign bytes.
final class ProtobufGraphDefTests: XCTestCase {
    /// Unpack then pack of every TensorFlow-written fixture graph gives back the file's bytes.
    func testEveryFixtureGraphRepacksByteIdentical() throws {
        let cases = try TensorFlowFixtures.cases() + ["constants"]
        XCTAssertGreaterThanOrEqual(cases.count, 13)
        for name in cases {
            let bytes = try [UInt8](Data(contentsOf: FixturePaths.url("tensorflow/\(name)/graph.pb")))
            let message = try ProtobufGraphDef(bytes: bytes, file: name)
            XCTAssertGreaterThan(message.nodeCount, 0, name)
            let packed = message.packed()
            XCTAssertEqual(packed.count, bytes.count, "\(name): size")
            XCTAssertTrue(packed == bytes, "\(name): repacked bytes differ")
        }
    }

    /// Removing, rewiring and appending nodes (with malloc'd buffers) repacks and reads back.
    func testEditsSurviveRepack() throws {
        let bytes = try TensorFlowFixtures.bytes("conv_bias_bn")
        let message = try ProtobufGraphDef(bytes: bytes, file: "conv_bias_bn")
        let nodes = message.nodeDefs()
        let identity = try XCTUnwrap(nodes.first { $0.name == "Identity" })
        message.removeNodes(named: ["NoOp"])
        XCTAssertTrue(message.setInputs(ofNode: "Identity", to: ["input"]))
        XCTAssertFalse(message.setInputs(ofNode: "no such node", to: []))
        message.append(ProtobufNodeDef(name: "extra", op: "Const", inputs: [], attributes: [
            ("dtype", .type(1)),
            ("value", .tensor(ProtobufTensorProto(dtype: 1, shape: [2], content: [0, 0, 128, 63, 0, 0, 0, 64]))),
            ("list", .list(ProtobufAttrList(strings: [Array("a".utf8)], ints: [1, 2], floats: [0.5], shapes: [[1, -1], nil]))),
            ("s", .bytes(Array("NHWC".utf8))),
        ]))
        XCTAssertTrue(message.setTensor(ofNode: "extra", attribute: "value",
                                        to: ProtobufTensorProto(dtype: 1, shape: [1], floatValues: [3])))
        let again = try ProtobufGraphDef(bytes: message.packed(), file: "edited")
        let edited = again.nodeDefs()
        XCTAssertEqual(edited.count, nodes.count)
        XCTAssertNil(edited.first { $0.name == "NoOp" })
        XCTAssertEqual(edited.first { $0.name == "Identity" }?.inputs, ["input"])
        XCTAssertEqual(edited.first { $0.name == "Identity" }?.attributes.map(\.key), identity.attributes.map(\.key))
        let extra = try XCTUnwrap(edited.last)
        XCTAssertEqual(extra.name, "extra")
        XCTAssertEqual(extra.attribute("value"), .tensor(ProtobufTensorProto(dtype: 1, shape: [1], floatValues: [3])))
        XCTAssertEqual(extra.attribute("s")?.string, "NHWC")
        guard case .list(let list)? = extra.attribute("list") else { return XCTFail("list attribute lost") }
        XCTAssertEqual(list.ints, [1, 2])
        XCTAssertEqual(list.shapes, [[1, -1], nil])
    }

    /// Every truncation of a real graph either fails with an error naming the file or parses;
    /// none crashes. Cutting inside the first node's length-delimited field must fail.
    func testTruncatedGraphGivesClearError() throws {
        let bytes = try TensorFlowFixtures.bytes("conv_bias_bn")
        var failures = 0
        for cut in stride(from: 1, to: bytes.count, by: 7) {
            do {
                _ = try ProtobufGraphDef(bytes: Array(bytes.prefix(cut)), file: "cut.pb")
            } catch let error as CheckpointError {
                failures += 1
                XCTAssertEqual(error.kind, .malformed)
                XCTAssertTrue(error.description.hasPrefix("cut.pb: "), error.description)
            }
        }
        XCTAssertGreaterThan(failures, 0)
        let error = TensorFlowFixtures.checkpointError { _ = try ProtobufGraphDef(bytes: Array(bytes.prefix(10)), file: "cut.pb") }
        XCTAssertEqual(error?.kind, .malformed)
        XCTAssertTrue(error?.problem.contains("not a TensorFlow GraphDef") ?? false, error?.description ?? "")
    }

    /// Random bytes and an empty file are refused with an error, never a crash.
    func testRandomBytesAndEmptyFileAreRefused() {
        var state: UInt64 = 0x9E3779B97F4A7C15
        var refused = 0
        for _ in 0..<200 {
            let bytes = (0..<64).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            if (try? ProtobufGraphDef(bytes: bytes, file: "noise.pb")) == nil { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 150, "most random byte strings are not valid protobuf")
        let empty = TensorFlowFixtures.checkpointError { _ = try ProtobufGraphDef(bytes: [], file: "empty.pb") }
        XCTAssertEqual(empty?.description, "empty.pb: the file is empty, not a TensorFlow GraphDef")
    }
}

/// A NodeDef's `attr` is a protobuf map: an attribute given twice is read as TensorFlow reads it.
final class ProtobufNodeDefAttributeTests: XCTestCase {
    func testARepeatedAttributeTakesItsLastValue() {
        let node = ProtobufNodeDef(name: "bn", op: "FusedBatchNormV3", inputs: [],
                                   attributes: [("epsilon", .float(0.001)), ("T", .type(1)), ("epsilon", .float(0.5))])
        XCTAssertEqual(node.attribute("epsilon"), .float(0.5))
        XCTAssertEqual(node.attribute("T"), .type(1))
        XCTAssertNil(node.attribute("missing"))
    }
}
