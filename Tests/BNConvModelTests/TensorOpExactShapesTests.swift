@testable import BNConvModel
@testable import BNConvOps
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

    /// The TensorFlow ops and the windowed ops the node tests do not reach: each rule against the
    /// op library's own output on small tensors (the elements of every operand known).
    func testRulesGiveTheOpLibrarysShapes() throws {
        func ints(_ shape: [Int], _ v: [Int64]) -> HostTensor { HostTensor(shape: shape, integers: v) }
        func floats(_ shape: [Int]) -> HostTensor { HostTensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float($0 % 7) - 3 }) }
        func int32(_ v: [Int64]) -> HostTensor { HostTensor(dtype: .int32, shape: [v.count], storage: .int(v)) }
        let cases: [(String, [String: OpAttribute], [HostTensor])] = [
            ("TF.Conv2D", ["strides": .ints([1, 2, 2, 1]), "padding": .string("SAME")], [floats([1, 7, 9, 4]), floats([3, 3, 4, 5])]),
            ("TF.Conv2D", ["strides": .ints([1, 1, 2, 1]), "dilations": .ints([1, 2, 1, 1]), "padding": .string("VALID")],
             [floats([2, 9, 8, 2]), floats([3, 2, 1, 4])]),
            ("TF.Conv2D", ["padding": .string("EXPLICIT"), "explicit_paddings": .ints([0, 0, 1, 2, 0, 3, 0, 0])],
             [floats([1, 5, 5, 2]), floats([2, 2, 2, 3])]),
            ("TF.Conv2D", ["data_format": .string("NCHW"), "padding": .string("SAME"), "strides": .ints([1, 1, 3, 3])],
             [floats([1, 2, 8, 7]), floats([3, 3, 2, 2])]),
            ("TF.DepthwiseConv2dNative", ["padding": .string("VALID"), "strides": .ints([1, 2, 1, 1])],
             [floats([1, 6, 5, 3]), floats([2, 2, 3, 2])]),
            ("TF.MirrorPad", ["mode": .string("REFLECT")], [floats([1, 4, 5]), int32([0, 0, 1, 2, 3, 3]).reshaped([3, 2])]),
            ("TF.StridedSlice", ["begin_mask": .int(1), "shrink_axis_mask": .int(2), "new_axis_mask": .int(4)],
             [floats([4, 5, 6]), int32([0, 2, 0, 1]), int32([3, 3, 0, 5]), int32([1, 1, 1, 2])]),
            ("TF.StridedSlice", ["ellipsis_mask": .int(1), "end_mask": .int(2)],
             [floats([2, 3, 4, 5]), int32([0, 1]), int32([0, 0]), int32([1, 2])]),
            ("TF.StridedSlice", [:], [floats([9]), int32([-2]), int32([-8]), int32([-3])]),
            ("TF.Slice", [:], [floats([3, 4, 5]), int32([1, 0, 2]), int32([-1, 2, 3])]),
            ("TF.Fill", [:], [int32([2, 3]), HostTensor(shape: [], floats: [1.5])]),
            ("TF.Pack", ["axis": .int(-1)], [floats([2, 3]), floats([2, 3]), floats([2, 3])]),
            ("TF.All", ["keep_dims": .int(1)], [HostTensor.filled(1, dtype: .bool, shape: [2, 3, 4]), int32([-1, 0])]),
            ("MaxPool", ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "ceil_mode": .int(1), "pads": .ints([1, 0, 1, 0])],
             [floats([1, 2, 8, 9])]),
            ("AveragePool", ["kernel_shape": .ints([2]), "auto_pad": .string("SAME_UPPER"), "strides": .ints([3])], [floats([2, 3, 10])]),
            ("Conv", ["group": .int(2), "dilations": .ints([2, 1]), "pads": .ints([1, 0, 2, 1])], [floats([1, 4, 9, 7]), floats([6, 2, 3, 2])]),
            ("Resize", ["mode": .string("nearest")], [floats([1, 2, 5, 7]), HostTensor(shape: [0], floats: []),
                                                       HostTensor(shape: [4], floats: [1, 1, 1.5, 0.6])]),
            ("Resize", ["mode": .string("linear")], [floats([1, 2, 5, 7]), HostTensor(shape: [0], floats: []),
                                                      HostTensor(shape: [0], floats: []), ints([4], [1, 2, 9, 3])]),
        ]
        for (type, attributes, inputs) in cases {
            let op = TensorOp(type: type, opset: 18, attributes: attributes, arguments: inputs.indices.map { .value($0) })
            let node = Node(name: type, op: .tensor(op), inputs: inputs.indices.map { "in\($0)" }, outputs: ["out"])
            let expected = try OpLibrary.kernel(for: op).run(inputs)[0].shape
            let got = ShapeInference.exactOutputShapes(of: node, inputs: inputs.map(\.shape), values: inputs.map { $0.tensor() })
            XCTAssertEqual(got, [expected], "\(type) \(attributes)")
        }
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
