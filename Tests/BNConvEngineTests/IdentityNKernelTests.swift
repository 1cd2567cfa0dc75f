@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// TensorFlow's `IdentityN` on the engine (``IdentityNKernel``): every output is its operand, float32
/// and other dtypes and constants alike, and an output nobody reads is not passed on at all.
final class IdentityNKernelTests: XCTestCase {
    private let constant = Weight(role: TensorOp.operandRole(2), tensor: Tensor(shape: [2], floats: [0.5, -3]), storageKey: "c")

    private func model(outputs: [String]) -> Model {
        let op = TensorOp(type: "TF.IdentityN", opset: 13, arguments: [.value(0), .value(1), .weight(constant.role)])
        return Model(name: "n", format: .graphDef, inputs: ["x", "i"], outputs: outputs, nodes: [
            Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "i", op: .input, inputs: [], outputs: ["i"]),
            Node(name: "idn", op: .tensor(op), inputs: ["x", "i"], outputs: ["idn", "idn:1", "idn:2"], weights: [constant]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, 3]), "i": ValueInfo(name: "i", shape: [nil], dtype: .int64)])
    }

    func testEveryOutputIsItsOperand() throws {
        let x = Tensor(shape: [2, 3], floats: [1, -2, 3.5, 0, 7, -0.25])
        let i = Tensor(shape: [4], doubles: [3, -1, 0, 9], dtype: .int64)
        let runner = try ModelRunner(model: model(outputs: ["idn", "idn:1", "idn:2"]))
        XCTAssertTrue(runner.steps[0].kernel is IdentityNKernel)
        let out = try runner.run([x, i])
        XCTAssertEqual(out[0], x)
        XCTAssertEqual(out[1].dtype, .int64)
        XCTAssertEqual(out[1], i)
        XCTAssertEqual(out[2], constant.tensor)
        // Observed (every value copied out as it is written): the same.
        XCTAssertEqual(try runner.run([x, i], observe: { _, _ in }), out)
    }

    func testAnUnreadOutputIsNotPassedOn() throws {
        let runner = try ModelRunner(model: model(outputs: ["idn:2", "idn"]))
        let node = runner.steps[0].node
        XCTAssertEqual(node.inputs, ["x"], "the int64 operand's output is read by nobody")
        XCTAssertEqual(node.outputs, ["idn", "idn:2"])
        guard case .tensor(let op) = node.op else { return XCTFail("\(node.op)") }
        XCTAssertEqual(op.arguments, [.value(0), .weight(constant.role)])
        let x = Tensor(shape: [1, 3], floats: [4, 5, 6])
        let out = try runner.run([x, Tensor(shape: [1], doubles: [2], dtype: .int64)])
        XCTAssertEqual(out, [constant.tensor, x])
        // Nothing to narrow: every output read, or not an IdentityN.
        XCTAssertNil(IdentityNKernel.narrowed(model(outputs: []).nodes[2], isRead: { _ in true }))
        XCTAssertNil(IdentityNKernel.narrowed(model(outputs: []).nodes[0], isRead: { _ in false }))
    }
}
