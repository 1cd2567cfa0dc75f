@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// A layer whose data operand is an initializer (an `Identity` or `Relu` of a constant, which
/// exporters write for a constant passed on) is read as an op-library node that holds the constant,
/// not as a typed layer with nothing to read: it runs instead of trapping in the engine.
final class ONNXConstantDataOperandTests: XCTestCase {
    func testIdentityAndReluOfAnInitializerRun() throws {
        let constant = Tensor(shape: [3], floats: [-1.5, 0.25, 2])
        let model = ONNXProto.Model(
            irVersion: 8, opsetImports: [ONNXProto.OpsetImport(domain: "", version: 17)], producerName: "test", graphName: "g",
            nodes: [
                ONNXProto.Node(name: "id", opType: "Identity", domain: "", inputs: ["c"], outputs: ["c_id"], attributes: []),
                ONNXProto.Node(name: "relu", opType: "Relu", domain: "", inputs: ["c"], outputs: ["c_relu"], attributes: []),
                ONNXProto.Node(name: "add", opType: "Add", domain: "", inputs: ["x", "c_id"], outputs: ["s"], attributes: []),
                ONNXProto.Node(name: "mul", opType: "Mul", domain: "", inputs: ["s", "c_relu"], outputs: ["y"], attributes: []),
            ],
            initializers: [ONNXProto.Tensor(name: "c", dataType: ONNXProto.DataType.float, dims: [3], rawData: constant.bytes)],
            inputs: [ONNXProto.ValueInfo(name: "x", elemType: ONNXProto.DataType.float, dims: [.param("N"), .value(3)])],
            outputs: [ONNXProto.ValueInfo(name: "y", elemType: ONNXProto.DataType.float, dims: [.param("N"), .value(3)])],
            valueInfos: [])
        let bytes = try ONNXModelBuilder.build(model, file: "constant_operand.onnx").serialized()
        let read = try ONNXReader.read(bytes: bytes, file: "constant_operand.onnx")
        for name in ["id", "relu"] {
            guard case .tensor? = read.node(named: name)?.op else { return XCTFail("\(name) is \(String(describing: read.node(named: name)?.op))") }
        }
        let x = Tensor(shape: [2, 3], floats: [1, 2, 3, -4, 5, 0.5])
        let y = try XCTUnwrap(ModelRunner(model: read).run([x]).first)
        // (x + c) * relu(c), element by element.
        let c = constant.floats(), xs = x.floats()
        let expected = xs.indices.map { (xs[$0] + c[$0 % 3]) * max(c[$0 % 3], 0) }
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.floats(), expected)
    }
}
