@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvOps
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// TFOpLambda layers mapped onto the op library: every function the fixtures use (tf_keras wrote
/// them, Tests/Fixtures/keras/mini_mobilenetv3 and oplambda_zoo), operands in order with the
/// config's constants as weights, and an unknown function kept opaque under its name.
final class KerasOpLambdaMapperTests: XCTestCase {
    private let cases = ["mini_mobilenetv3", "oplambda_zoo"]

    private func read(_ fixture: String) throws -> Model {
        try Checkpoint.read(FixturePaths.url("keras/\(fixture)/keras2.h5").path)
    }

    /// The JSON layer entries of a model's config, by name.
    private func layers(of model: Model) throws -> [String: JSONValue] {
        let config = try XCTUnwrap((model.source as? KerasModelRecord)?.config)
        var out: [String: JSONValue] = [:]
        for layer in try XCTUnwrap(config["config"]?["layers"]?.arrayValue) {
            if let name = layer["name"]?.stringValue { out[name] = layer }
        }
        return out
    }

    func testEveryTFOpLambdaOfTheFixturesMapsOntoTheOpLibrary() throws {
        for fixture in cases {
            let model = try read(fixture)
            let lambdas = model.nodes.filter { ($0.source as? KerasLayerRecord)?.className == "TFOpLambda" }
            XCTAssertGreaterThan(lambdas.count, 10, fixture)
            for node in lambdas {
                switch node.op {
                case .tensor(let op): XCTAssertTrue(OpLibrary.supports(op.type), "\(fixture) \(node.name): \(op.type)")
                case .activation(.swish): XCTAssertEqual(node.name, "tf.nn.silu", fixture)
                default: XCTFail("\(fixture) \(node.name): \(node.op)")
                }
                // Constants are the config's, never the weights file's.
                XCTAssertTrue(node.weights.allSatisfy { $0.storageKey.hasPrefix("model_config: \(node.name): ") }, node.name)
                XCTAssertTrue(KerasLayerRecord.storedWeights(of: node).isEmpty, node.name)
            }
        }
    }

    func testOperandsKeepTheirOrderAndConstantsAreTheConfigs() throws {
        let model = try read("oplambda_zoo")
        let layers = try layers(of: model)
        /// The numbers of a constant as written in the config (first-argument leaf or keyword).
        func written(_ layer: String, leaf: Bool, key: String = "y") throws -> [Double] {
            let call = try XCTUnwrap(layers[layer]?["inbound_nodes"]?[0])
            let value = try XCTUnwrap(leaf ? call[2] : call[3]?[key])
            return try XCTUnwrap(KerasOpLambdaMapper.numbers(value)).values
        }
        func op(_ name: String) throws -> (TensorOp, Node) {
            let node = try XCTUnwrap(model.node(named: name), name)
            guard case .tensor(let op) = node.op else { throw XCTSkip("\(name) is \(node.op)") }
            return (op, node)
        }
        // 3 - x: Sub(3, x), the constant first.
        var (t, node) = try op("tf.math.subtract")
        XCTAssertEqual(t.type, "Sub")
        XCTAssertEqual(t.arguments, [.weight(TensorOp.operandRole(0)), .value(0)])
        XCTAssertEqual(node.weight(TensorOp.operandRole(0))?.tensor.shape, [])
        XCTAssertEqual(node.weight(TensorOp.operandRole(0))?.tensor.doubles(), try written("tf.math.subtract", leaf: true))
        // a vector on the left: Sub(c, x) with c of shape (6,).
        (t, node) = try op("tf.math.subtract_1")
        XCTAssertEqual(t.arguments, [.weight(TensorOp.operandRole(0)), .value(0)])
        XCTAssertEqual(node.weight(TensorOp.operandRole(0))?.tensor.shape, [6])
        XCTAssertEqual(node.weight(TensorOp.operandRole(0))?.tensor.doubles(),
                       try written("tf.math.subtract_1", leaf: true).map { Double(Float($0)) })
        // 1 / (|x| + 1): Div(1, x).
        (t, _) = try op("tf.math.truediv")
        XCTAssertEqual(t.type, "Div")
        XCTAssertEqual(t.arguments, [.weight(TensorOp.operandRole(0)), .value(0)])
        // max(x, c): the constant second.
        (t, node) = try op("tf.math.maximum")
        XCTAssertEqual(t.type, "Max")
        XCTAssertEqual(t.arguments, [.value(0), .weight(TensorOp.operandRole(1))])
        XCTAssertEqual(node.weight(TensorOp.operandRole(1))?.tensor.doubles(), try written("tf.math.maximum", leaf: false).map { Double(Float($0)) })
        // reshape, reduce_mean, concat, transpose with their arguments from the kwargs.
        (t, node) = try op("tf.reshape")
        XCTAssertEqual(t.type, "Reshape")
        XCTAssertEqual(node.weight(TensorOp.operandRole(1))?.tensor.dtype, .int64)
        XCTAssertEqual(node.weight(TensorOp.operandRole(1))?.tensor.doubles(), try written("tf.reshape", leaf: false, key: "shape"))
        (t, _) = try op("tf.math.reduce_mean")
        XCTAssertEqual(t.type, "ReduceMean")
        XCTAssertEqual(t.attributes["keepdims"], .int(1))
        (t, node) = try op("tf.concat")
        XCTAssertEqual(t.type, "Concat")
        XCTAssertEqual(t.arguments, (0..<16).map { .value($0) })
        XCTAssertEqual(node.inputs.count, 16)
        (t, _) = try op("tf.compat.v1.transpose")
        XCTAssertEqual(t.type, "Transpose")
        XCTAssertNotNil(t.attributes["perm"])
        (t, _) = try op("tf.clip_by_value")
        XCTAssertEqual(t.type, "Clip")
        XCTAssertEqual(t.attributes["min"], .float(try written("tf.clip_by_value", leaf: false, key: "clip_value_min")[0]))
        XCTAssertEqual(t.attributes["max"], .float(try written("tf.clip_by_value", leaf: false, key: "clip_value_max")[0]))
    }

    /// A list constant as the first argument: tf_keras writes it as one leaf when the model is built,
    /// and as one leaf per element when a loaded model is saved again (observed for oplambda_zoo's
    /// `tf.math.subtract(c, x)`: tools/interop/keras_checkpoints.py saves it so). Either is one operand;
    /// a changed value is written back as the single leaf.
    func testAConstantFirstArgumentWrittenAsAListOfLeavesIsOneOperand() throws {
        let call = try JSONValue.parse(#"[["_CONSTANT_VALUE", -1, 1.5, {"y": ["bn", 0, 0]}], ["_CONSTANT_VALUE", -1, -0.5, {"y": ["bn", 0, 0]}]]"#)
        let arguments = KerasCallArguments(call)
        XCTAssertEqual(arguments.firstConstant, .array([.number("1.5"), .number("-0.5")]))
        var config = JSONObject()
        config["function"] = .string("math.subtract")
        let mapped = KerasOpLambdaMapper.map(config: config, call: arguments, layer: "tf.math.subtract_1")
        XCTAssertEqual(mapped.op, .tensor(TensorOp(type: "Sub", opset: 14, arguments: [.weight(TensorOp.operandRole(0)), .value(0)])))
        XCTAssertEqual(mapped.constants.map(\.site), [.firstArgument])
        XCTAssertEqual(mapped.constants.first?.weight.tensor.shape, [2])
        XCTAssertEqual(mapped.constants.first?.weight.tensor.doubles(), [1.5, -0.5])
        let written = KerasOpLambdaConstants.setting(.array([.number("3.0"), .number("-1.0")]), at: .firstArgument, in: call)
        XCTAssertEqual(written.serialized(), #"["_CONSTANT_VALUE", -1, [3.0, -1.0], {"y": ["bn", 0, 0]}]"#)
        XCTAssertEqual(KerasCallArguments(written).firstConstant, .array([.number("3.0"), .number("-1.0")]))
    }

    /// The config with one TFOpLambda's function (or kwargs) changed, read with the fixture's weights.
    private func readEdited(_ edit: (inout JSONObject) -> Void) throws -> Model {
        let folder = FixturePaths.url("keras/oplambda_zoo")
        var config = try JSONValue.parse(String(contentsOf: folder.appendingPathComponent("keras2.json"), encoding: .utf8))
        guard case .object(var root) = config, case .object(var inner)? = root["config"], var list = inner["layers"]?.arrayValue,
              let k = list.firstIndex(where: { $0["name"]?.stringValue == "tf.math.tanh" }), case .object(var layer) = list[k] else {
            throw XCTSkip("no tf.math.tanh layer")
        }
        edit(&layer)
        list[k] = .object(layer)
        inner["layers"] = .array(list)
        root["config"] = .object(inner)
        config = .object(root)
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("edited.json")
        try config.serialized().write(to: path, atomically: true, encoding: .utf8)
        return try Checkpoint.read(folder.appendingPathComponent("keras2_weights.h5").path, config: path.path)
    }

    func testAnUnknownFunctionStaysOpaqueAndIsNamedWhenRun() throws {
        let model = try readEdited { layer in
            var config = layer["config"]?.objectValue ?? JSONObject()
            config["function"] = .string("math.cumsum")
            layer["config"] = .object(config)
        }
        XCTAssertEqual(model.node(named: "tf.math.tanh")?.op, .opaque(type: "TFOpLambda 'math.cumsum'"))
        XCTAssertThrowsError(try ModelRunner(model: model)) { error in
            XCTAssertEqual("\(error)", "TFOpLambda 'math.cumsum' is not supported (node 'tf.math.tanh')")
        }
    }

    func testAnUnknownArgumentLeavesTheLayerOpaque() throws {
        let model = try readEdited { layer in
            // tanh with a keyword argument tf.math.tanh does not take.
            guard case .array(var calls)? = layer["inbound_nodes"], case .array(var leaf) = calls[0], case .object(var kwargs) = leaf[3] else { return }
            kwargs["approximate"] = .bool(true)
            leaf[3] = .object(kwargs)
            calls[0] = .array(leaf)
            layer["inbound_nodes"] = .array(calls)
        }
        XCTAssertEqual(model.node(named: "tf.math.tanh")?.op, .opaque(type: "TFOpLambda 'math.tanh'"))
    }
}
