@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Keras 2 inbound nodes read as tf_keras's `process_node` reads them: the node data tf_keras wrote
/// for TFOpLambda layers and plain layers (Tests/Fixtures/keras/oplambda_zoo), and the order of
/// keyword-argument tensors.
final class KerasCallArgumentsTests: XCTestCase {
    /// The first inbound node of each layer of a fixture's config, by layer name.
    private func calls(_ fixture: String) throws -> [String: JSONValue] {
        let model = try Checkpoint.read(FixturePaths.url("keras/\(fixture)/keras2.h5").path)
        let config = try XCTUnwrap((model.source as? KerasModelRecord)?.config)
        var out: [String: JSONValue] = [:]
        for layer in try XCTUnwrap(config["config"]?["layers"]?.arrayValue) {
            guard let name = layer["name"]?.stringValue, let call = layer["inbound_nodes"]?[0] else { continue }
            out[name] = call
        }
        return out
    }

    func testTheNodeDataTfKerasWroteForTFOpLambdaLayers() throws {
        let calls = try calls("oplambda_zoo")
        // 3 - x: the constant is the first argument's leaf, the tensor a keyword argument.
        let rsub = KerasCallArguments(try XCTUnwrap(calls["tf.math.subtract"]))
        XCTAssertTrue(rsub.firstIsLeaf)
        guard case .constant(let three)? = rsub.first.first else { return XCTFail("\(rsub.first)") }
        XCTAssertNotNil(three.doubleValue)
        XCTAssertEqual(rsub["y"], .tensor(0))
        XCTAssertEqual(rsub.refs, [KerasTensorRef(layer: "bn", node: 0, tensor: 0)])
        // x - (-0.25) the other way round: tensor first, constant keyword.
        let maximum = KerasCallArguments(try XCTUnwrap(calls["tf.math.maximum"]))
        XCTAssertEqual(maximum.first, [.tensor(0)])
        guard case .constant(let bound)? = maximum["y"] else { return XCTFail("\(maximum.keywords)") }
        XCTAssertNotNil(bound.doubleValue)
        XCTAssertEqual(maximum["name"], .constant(.null))
        // tf.concat: the first argument is a list of leaves, each carrying the same kwargs.
        let concat = KerasCallArguments(try XCTUnwrap(calls["tf.concat"]))
        XCTAssertFalse(concat.firstIsLeaf)
        XCTAssertEqual(concat.first.count, 16)
        XCTAssertEqual(concat.first, (0..<16).map { .tensor($0) })
        XCTAssertEqual(concat.refs.count, 16)
        guard case .constant(let axis)? = concat["axis"] else { return XCTFail("\(concat.keywords)") }
        XCTAssertNotNil(axis.intValue)
        // A plain layer: a list of one leaf with empty kwargs.
        let conv = KerasCallArguments(try XCTUnwrap(calls["out_conv"]))
        XCTAssertFalse(conv.firstIsLeaf)
        XCTAssertEqual(conv.refs, [KerasTensorRef(layer: "tf.concat", node: 0, tensor: 0)])
        XCTAssertTrue(conv.keywords.isEmpty)
    }

    func testTensorsOfBothOperandsAreTheNodesInputs() throws {
        // x * relu6(x + 3): both operands are tensors, the second a keyword argument.
        let calls = try calls("mini_mobilenetv3")
        let multiply = KerasCallArguments(try XCTUnwrap(calls["tf.math.multiply"]))
        XCTAssertEqual(multiply.first, [.tensor(0)])
        XCTAssertEqual(multiply["y"], .tensor(1))
        XCTAssertEqual(multiply.refs.map(\.layer), ["stem_bn", "tf.nn.relu6"])
        let model = try Checkpoint.read(FixturePaths.url("keras/mini_mobilenetv3/keras2.h5").path)
        XCTAssertEqual(model.node(named: "tf.math.multiply")?.inputs, ["stem_bn", "tf.nn.relu6"])
    }

    /// tf_keras flattens a node's arguments with `tf.nest.flatten`: the first argument's leaves, then
    /// the keyword arguments by sorted key; rewiring follows the same order and reaches the keyword
    /// tensors in every leaf.
    func testKeywordTensorsFollowTheLeavesBySortedKeyAndAreRewiredInEveryLeaf() throws {
        let call = try JSONValue.parse("""
            [["a", 0, 0, {"y": ["c", 0, 0], "b": ["d", 0, 1], "name": null}], ["_CONSTANT_VALUE", -1, 2.0, {"y": ["c", 0, 0], "b": ["d", 0, 1], "name": null}]]
            """)
        let arguments = KerasCallArguments(call)
        XCTAssertEqual(arguments.refs.map(\.layer), ["a", "d", "c"])
        XCTAssertEqual(arguments.first, [.tensor(0), .constant(.number("2.0"))])
        XCTAssertEqual(arguments["b"], .tensor(1))
        XCTAssertEqual(arguments["y"], .tensor(2))
        XCTAssertEqual(arguments.keywords.map(\.key), ["y", "b", "name"])
        let rewired = try KerasCallArguments.replacingRefs(in: call) { k, ref in
            KerasTensorRef(layer: "\(ref.layer)\(k)", node: ref.node, tensor: ref.tensor)
        }
        XCTAssertEqual(rewired.serialized(), """
            [["a0", 0, 0, {"y": ["c2", 0, 0], "b": ["d1", 0, 1], "name": null}], ["_CONSTANT_VALUE", -1, 2.0, {"y": ["c2", 0, 0], "b": ["d1", 0, 1], "name": null}]]
            """)
        XCTAssertEqual(KerasCallArguments.refs(inCall: rewired).map(\.layer), ["a0", "d1", "c2"])
    }
}
