@testable import BNConvModel
@testable import BNConvTestSupport
import BNConv
import Foundation
import XCTest

/// The exact shape rules (``ShapeInference/exactOutputShapes(of:inputs:values:)``) against the onnx
/// backend node tests (Tests/Fixtures/onnx_node): for every one-node model, the shapes the rules give
/// from the recorded inputs must be the shapes of onnx's recorded outputs, whether the inputs'
/// elements are known (as planning knows a constant's) or only their shapes.
final class TensorOpExactShapesTests: XCTestCase {
    func testRulesGiveTheRecordedOutputShapes() throws {
        let root = FixturePaths.url("onnx_node")
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix("test_") }.sorted()
        var wrong: [String] = []
        var withValues = 0, fromShapesAlone = 0
        var ops = Set<String>()
        for name in names {
            let dir = root.appendingPathComponent(name)
            let model = try ONNXReader.read(dir.appendingPathComponent("model.onnx").path)
            guard model.nodes.filter({ $0.op != .input }).count == 1, let node = model.nodes.first(where: { $0.op != .input }) else { continue }
            var feeds: [String: Tensor] = [:]
            for (k, input) in model.inputs.enumerated() {
                feeds[input] = try NumPyFile.read(dir.appendingPathComponent("input_\(k).npy").path)
            }
            let expected = try node.outputs.indices.map { try NumPyFile.read(dir.appendingPathComponent("output_\($0).npy").path).shape }
            let shapes = node.inputs.map { feeds[$0]?.shape }
            if let got = ShapeInference.exactOutputShapes(of: node, inputs: shapes, values: node.inputs.map { feeds[$0] }) {
                withValues += 1
                ops.insert(node.opName)
                if got != expected { wrong.append("\(name) (values known): \(got), onnx wrote \(expected)") }
            }
            if let got = ShapeInference.exactOutputShapes(of: node, inputs: shapes, values: node.inputs.map { _ in nil }) {
                fromShapesAlone += 1
                if got != expected { wrong.append("\(name) (shapes only): \(got), onnx wrote \(expected)") }
            }
        }
        XCTAssertEqual(wrong, [])
        print("exact shapes: \(withValues) node tests with values known, \(fromShapesAlone) from shapes alone, \(ops.count) ops")
        XCTAssertGreaterThan(withValues, 100, "the rules cover most one-node tests")
        XCTAssertGreaterThan(ops.count, 50)
    }

    /// Without the elements of a shape-giving operand, or with operands the op refuses, no shape is given.
    func testUnknownTargetsAndRefusedOperandsGiveNoShape() {
        func node(_ type: String, _ attributes: [String: OpAttribute] = [:], inputs: Int = 2) -> Node {
            Node(name: type, op: .tensor(TensorOp(type: type, opset: 17, attributes: attributes, arguments: (0..<inputs).map { .value($0) })),
                 inputs: (0..<inputs).map { "in\($0)" }, outputs: ["out"])
        }
        let target = Tensor(shape: [2], doubles: [4, -1], dtype: .int64)
        XCTAssertEqual(ShapeInference.exactOutputShapes(of: node("Reshape"), inputs: [[2, 6], [2]], values: [nil, target]), [[4, 3]])
        XCTAssertNil(ShapeInference.exactOutputShapes(of: node("Reshape"), inputs: [[2, 6], [2]], values: [nil, nil]))
        XCTAssertNil(ShapeInference.exactOutputShapes(of: node("Reshape"), inputs: [[2, 5], [2]], values: [nil, target]), "10 is not 4 x n")
        XCTAssertNil(ShapeInference.exactOutputShapes(of: node("NonZero", inputs: 1), inputs: [[3]], values: [Tensor(shape: [3], floats: [0, 1, 2])]))
        XCTAssertNil(ShapeInference.exactOutputShapes(of: node("Add"), inputs: [[2, 3], [4]], values: [nil, nil]), "3 and 4 do not broadcast")
        XCTAssertEqual(ShapeInference.exactOutputShapes(of: node("Add"), inputs: [[2, 1], [4]], values: [nil, nil]), [[2, 4]])
        let shapeOfShape = ShapeInference.exactOutputShapes(of: node("Shape", ["start": .int(1)], inputs: 1), inputs: [[5, 6, 7]], values: [nil])
        XCTAssertEqual(shapeOfShape, [[2]])
    }
}
