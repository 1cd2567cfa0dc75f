import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// The GraphDef split into NodeDefs: each decoded like protobuf-c decodes the whole graph (tensor
/// contents as views of the file's bytes), written back byte for byte, and edits (attributes,
/// inputs, a lent tensor, deletion, appended nodes) that keep what they do not name.
final class ProtobufGraphDefFileTests: XCTestCase {
    private func fixture(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: FixturePaths.url("tensorflow/\(name)/graph.pb")))
    }

    private func written(_ file: ProtobufGraphDefFile, edits: [Int: ProtobufNodeDefEdit] = [:], deleted: Set<Int> = [],
                         appending: [ProtobufNodeDef] = []) throws -> [UInt8] {
        let sink = ByteSink()
        try file.write(to: sink, edits: edits, deleted: deleted, appending: appending)
        try sink.finish()
        return sink.bytes
    }

    /// Every fixture: the NodeDefs equal the whole-graph protobuf-c decoding, the contents share
    /// the file's storage (no copy), and writing without edits gives the file's bytes.
    func testNodesDecodeLikeTheWholeGraphAndWriteBackByteIdentical() throws {
        let cases = try TensorFlowFixtures.cases() + ["constants"]
        var views = 0
        for name in cases {
            let bytes = try fixture(name)
            let file = try ProtobufGraphDefFile(bytes: bytes, file: name)
            let nodes = try file.nodeDefs()
            let whole = try ProtobufGraphDef(bytes: bytes, file: name).nodeDefs()
            XCTAssertEqual(nodes.count, whole.count, name)
            XCTAssertEqual(file.nodeCount, whole.count, name)
            for (a, b) in zip(nodes, whole) { XCTAssertEqual(a, b, "\(name): \(a.name)") }
            for n in nodes {
                for (_, value) in n.attributes {
                    guard case .tensor(let t) = value, !t.content.isEmpty else { continue }
                    let inFile = bytes.withUnsafeBufferPointer { $0.baseAddress! }
                    let view = t.content.withUnsafeBufferPointer { $0.baseAddress! }
                    XCTAssertTrue(view >= inFile && view < inFile + bytes.count, "\(name): \(n.name) content copied")
                    views += 1
                }
            }
            XCTAssertTrue(try written(file) == bytes, name)
        }
        XCTAssertGreaterThan(views, 20)
    }

    /// Read where it lies (a mapping of the file): contents of the size asked for or more are left
    /// in the file (their range recorded, nothing copied), the others copied; the nodes are those
    /// of the bytes held in memory otherwise, and the graph writes back byte for byte, contents
    /// lent from the file.
    func testAMappedFileLeavesLargeContentsWhereTheyLie() throws {
        var stored = 0
        for name in try TensorFlowFixtures.cases() + ["constants"] {
            let path = FixturePaths.url("tensorflow/\(name)/graph.pb").path
            let bytes = try fixture(name)
            let expected = try ProtobufGraphDefFile(bytes: bytes, file: name).nodeDefs()
            let mapped = try ProtobufGraphDefFile(mapping: try XCTUnwrap(MappedFile(path: path)), file: name)
            XCTAssertNotNil(mapped.mappedFile)
            XCTAssertEqual(mapped.byteCount, bytes.count)
            for minimum in [0, 64] {
                let nodes = try mapped.nodeDefs(lendingFrom: minimum)
                XCTAssertEqual(nodes.count, expected.count, name)
                for (a, b) in zip(nodes, expected) {
                    XCTAssertEqual(a.name, b.name)
                    for ((_, x), (_, y)) in zip(a.attributes, b.attributes) {
                        guard case .tensor(let t) = x, case .tensor(var u) = y else { XCTAssertEqual(x, y, "\(name): \(a.name)"); continue }
                        if let range = t.stored {
                            XCTAssertTrue(t.content.isEmpty)
                            XCTAssertGreaterThanOrEqual(range.count, minimum)
                            XCTAssertEqual(Array(bytes[range]), Array(u.content), "\(name): \(a.name) stored range")
                            u.content = []
                            u.stored = range
                            stored += 1
                        }
                        XCTAssertEqual(t, u, "\(name): \(a.name)")
                    }
                }
            }
            XCTAssertTrue(try written(mapped) == bytes, name)
            mapped.dropResidentPages()
            XCTAssertTrue(try written(mapped) == bytes, "\(name) after dropping pages")
        }
        XCTAssertGreaterThan(stored, 20)
    }

    /// An edited Const gets its new tensor (lent, not copied), an edited node keeps its unknown
    /// field and its other attributes, a deleted node goes, appended nodes follow the last NodeDef,
    /// and an untouched node is byte for byte the same.
    func testEditsKeepWhatTheyDoNotName() throws {
        let unknownField: [UInt8] = [0xB8, 0x06, 0x2A]
        let bytes = try TensorFlowFixtures.withNode("conv_bias_bn/bn/FusedBatchNormV3", of: fixture("conv_bias_bn"),
                                                    setTrue: "is_training", appending: unknownField)
        let file = try ProtobufGraphDefFile(bytes: bytes, file: "g.pb")
        let nodes = try file.nodeDefs()
        let bn = try XCTUnwrap(nodes.firstIndex { $0.op == "FusedBatchNormV3" })
        let kernel = try XCTUnwrap(nodes.firstIndex {
            if case .tensor(let t)? = $0.attribute("value") { return $0.op == "Const" && !t.content.isEmpty }
            return false
        })
        let noOp = try XCTUnwrap(nodes.firstIndex { $0.op == "NoOp" })
        let newContent: [UInt8] = Array(repeating: 7, count: 12)
        var bnEdit = ProtobufNodeDefEdit()
        bnEdit.attributes = [("is_training", .bool(false))]
        var kernelEdit = ProtobufNodeDefEdit()
        kernelEdit.tensors = [("value", ProtobufTensorProto(dtype: 1, shape: [3], content: newContent[...]))]
        let extra = ProtobufNodeDef(name: "extra", op: "NoOp", inputs: [], attributes: [])
        let out = try written(file, edits: [bn: bnEdit, kernel: kernelEdit], deleted: [noOp], appending: [extra])

        let back = try ProtobufGraphDef(bytes: out, file: "out.pb").nodeDefs()
        var expected = nodes.map(\.name)
        expected.remove(at: noOp)
        expected.append("extra")
        XCTAssertEqual(back.map(\.name), expected)
        let backBN = try XCTUnwrap(back.first { $0.op == "FusedBatchNormV3" })
        XCTAssertEqual(backBN.attribute("is_training"), .bool(false))
        XCTAssertEqual(backBN.attributes.map(\.key), nodes[bn].attributes.map(\.key))
        XCTAssertEqual(backBN.attributes.filter { $0.key != "is_training" }.map(\.value),
                       nodes[bn].attributes.filter { $0.key != "is_training" }.map(\.value))
        XCTAssertEqual(TensorFlowFixtures.occurrences(of: unknownField, in: out), 1)
        XCTAssertEqual(back.first { $0.name == nodes[kernel].name }?.attribute("value"),
                       .tensor(ProtobufTensorProto(dtype: 1, shape: [3], content: newContent[...])))
        for (i, n) in nodes.enumerated() where ![bn, kernel, noOp].contains(i) {
            XCTAssertEqual(back.first { $0.name == n.name }, n, n.name)
        }
    }

    /// Foreign and damaged bytes are refused with one clear line (no crash).
    func testDamagedBytesAreRefused() throws {
        XCTAssertEqual(TensorFlowFixtures.checkpointError { _ = try ProtobufGraphDefFile(bytes: [], file: "e.pb") }?.description,
                       "e.pb: the file is empty, not a TensorFlow GraphDef")
        let bytes = try fixture("conv_bias_bn")
        let cut = TensorFlowFixtures.checkpointError { _ = try ProtobufGraphDefFile(bytes: Array(bytes.prefix(10)), file: "c.pb") }
        XCTAssertTrue(cut?.problem.contains("not a TensorFlow GraphDef") ?? false, cut?.description ?? "")
        // A NodeDef whose op field has the wrong wire type (varint instead of string).
        let badNode: [UInt8] = [0x0A, 0x04, 0x0A, 0x01, 0x61, 0x10]
        let bad = TensorFlowFixtures.checkpointError { _ = try ProtobufGraphDefFile(bytes: badNode, file: "b.pb").nodeDefs() }
        XCTAssertNotNil(bad)
        XCTAssertEqual(bad?.kind, .malformed)
    }
}
