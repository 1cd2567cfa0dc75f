@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvOps
@testable import BNConvEngine
import XCTest

/// A planned reshape is a view of a float32 input of the planned shape, and the op library's own
/// kernel otherwise (another shape, another dtype).
final class ReshapeViewKernelTests: XCTestCase {
    private func kernel() throws -> ReshapeViewKernel {
        let op = TensorOp(type: "Reshape", opset: 14, arguments: [.value(0), .value(1)])
        let node = Node(name: "r", op: .tensor(op), inputs: ["x", "shape"], outputs: ["y"])
        return ReshapeViewKernel(kernel: try TensorOpKernel(node: node, op: op), operand: 0, inputShape: [2, 6], outputShape: [3, 4])
    }

    func testPlannedShapeIsAViewOtherwiseTheLibraryRuns() throws {
        let view = try kernel()
        let context = KernelContext(pool: BufferPool(), parallel: Parallel(threads: 1))
        let target = try TensorOpKernel.engineValue(HostTensor(shape: [2], integers: [3, 4]), context)
        var x = try context.allocate([2, 6])
        for i in 0..<12 { x.pointer[i] = Float(i) }
        let y = try view.run([x, target], context)
        XCTAssertEqual(y.shape, [3, 4])
        XCTAssertTrue(y.buffer === x.buffer, "a view shares the input's elements")
        XCTAssertEqual(x.buffer.references, 2)

        // Another input shape: the op library computes it (a copy, its own checks).
        x.shape = [12]
        let copied = try view.run([x, target], context)
        XCTAssertEqual(copied.shape, [3, 4])
        XCTAssertFalse(copied.buffer === x.buffer)
        XCTAssertEqual(copied.tensor().floats(), (0..<12).map(Float.init))

        // A typed input of the planned shape: the op library keeps its dtype.
        let typed = try TensorOpKernel.engineValue(HostTensor(shape: [2, 6], integers: (0..<12).map(Int64.init)), context)
        let reshaped = try view.run([typed, target], context)
        XCTAssertEqual(reshaped.typed?.dtype, .int64)
        XCTAssertEqual(reshaped.shape, [3, 4])
    }
}
