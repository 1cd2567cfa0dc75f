@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvOps
@testable import BNConvEngine
import XCTest

/// Planning answers `Shape`, `Size` and `Rank` from a shape alone: the answers must be the op
/// library's own on a tensor of that shape, dtype included.
final class ShapeQueryTests: XCTestCase {
    func testAnswersAreTheOpLibrarysOnATensorOfTheShape() throws {
        let x = HostTensor(shape: [2, 3, 4, 5], floats: Array(repeating: 1, count: 120))
        let ops: [TensorOp] = [
            TensorOp(type: "Shape", opset: 13, arguments: [.value(0)]),
            TensorOp(type: "Shape", opset: 15, attributes: ["start": .int(1), "end": .int(-1)], arguments: [.value(0)]),
            TensorOp(type: "Shape", opset: 15, attributes: ["start": .int(-9), "end": .int(9)], arguments: [.value(0)]),
            TensorOp(type: "Shape", opset: 15, attributes: ["start": .int(3), "end": .int(1)], arguments: [.value(0)]),
            TensorOp(type: "Size", opset: 13, arguments: [.value(0)]),
            TensorOp(type: "TF.Shape", opset: 18, arguments: [.value(0)]),
            TensorOp(type: "TF.Shape", opset: 18, attributes: ["out_type": .string("int64")], arguments: [.value(0)]),
            TensorOp(type: "TF.Size", opset: 18, attributes: ["out_type": .string("int32")], arguments: [.value(0)]),
            TensorOp(type: "TF.Rank", opset: 18, arguments: [.value(0)]),
        ]
        for op in ops {
            let library = try OpLibrary.kernel(for: op).run([x])[0]
            XCTAssertEqual(ShapeQuery.result(op, shape: x.shape), library, "\(op.type) \(op.attributes)")
        }
        XCTAssertEqual(ShapeQuery.types, Set(ops.map(\.type)))
    }
}
