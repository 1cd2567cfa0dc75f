@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class ReshapeKernelTests: XCTestCase {
    func testMatchesTensorFlowRecordings() throws {
        let names = try ["reshape", "flatten"].flatMap { try KernelCase.names($0) }
        XCTAssertFalse(names.isEmpty)
        for name in names { try KernelCase(name).check() }
    }

    /// A target whose sizes multiply past `Int.max` (each within the validated range) is a shape
    /// error naming the node, not an overflow trap.
    func testAnOverflowingTargetIsAShapeError() throws {
        let big = Int(Int32.max)
        let nodes = [Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
                     Node(name: "r", op: .reshape(targetShape: [big, big, big]), inputs: ["x"], outputs: ["y"])]
        let model = Model(name: "m", format: .onnx, inputs: ["x"], outputs: ["y"], nodes: nodes,
                          values: ["x": ValueInfo(name: "x", shape: [nil, 4])])
        XCTAssertThrowsError(try ModelRunner(model: model).run([Tensor(shape: [1, 4], floats: [1, 2, 3, 4])])) { error in
            XCTAssertTrue("\(error)".contains("node 'r'"), "\(error)")
            XCTAssertTrue("\(error)".contains("reshape target"), "\(error)")
        }
    }
}
