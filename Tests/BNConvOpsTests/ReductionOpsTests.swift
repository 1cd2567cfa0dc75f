import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Edge cases and refusals of the reduction family (Reduce*, ArgMax/ArgMin, Softmax family).
final class ReductionOpsTests: XCTestCase {
    /// Runs `op` of `opset` with `attributes` on `inputs`.
    private func run(_ op: String, opset: Int = 13, _ attributes: [String: OpAttribute] = [:],
                     _ inputs: [HostTensor?]) throws -> [HostTensor] {
        let build = try XCTUnwrap(ReductionOps.builders[op])
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)
    }

    /// A float32 tensor of `shape` holding 0, 1, 2, ...
    private func ramp(_ shape: [Int]) -> HostTensor {
        HostTensor(shape: shape, floats: (0..<shape.reduce(1, *)).map(Float.init))
    }

    func testKeepDimsAndDroppedAxesShapes() throws {
        let x = ramp([2, 3, 4])
        XCTAssertEqual(try run("ReduceMean", ["axes": .ints([1])], [x])[0].shape, [2, 1, 4])
        XCTAssertEqual(try run("ReduceMean", ["axes": .ints([0, -1]), "keepdims": .int(0)], [x])[0].shape, [3])
        XCTAssertEqual(try run("ReduceMax", ["keepdims": .int(0)], [x])[0].shape, [])
    }

    func testReduceSumReadsAxesFromInputFromOpset13() throws {
        let x = ramp([2, 3])
        let y = try run("ReduceSum", opset: 13, [:], [x, HostTensor(shape: [1], integers: [1])])[0]
        XCTAssertEqual(y.shape, [2, 1])
        XCTAssertEqual(y.floats, [3, 12])
        // Opset 11 reads the attribute and ignores a second input.
        XCTAssertEqual(try run("ReduceSum", opset: 11, ["axes": .ints([0])], [x])[0].floats, [3, 5, 7])
    }

    func testNoopWithEmptyAxesKeepsTheInput() throws {
        let x = ramp([2, 3])
        let empty = HostTensor(shape: [0], integers: [])
        XCTAssertEqual(try run("ReduceSum", ["noop_with_empty_axes": .int(1)], [x, empty])[0], x)
        XCTAssertEqual(try run("ReduceSum", [:], [x, empty])[0].floats, [15])
    }

    func testBadAxesAreErrors() {
        let x = ramp([2, 3])
        XCTAssertThrowsError(try run("ReduceMean", ["axes": .ints([2])], [x]))
        XCTAssertThrowsError(try run("ReduceMean", ["axes": .ints([1, -1])], [x]))
        XCTAssertThrowsError(try run("ReduceMean", ["axes": .ints([0])], [HostTensor(shape: [], floats: [1])]))
        XCTAssertThrowsError(try run("ArgMax", ["axis": .int(-3)], [x]))
    }

    func testEmptyReductionsGiveTheIdentity() throws {
        let x = HostTensor(shape: [2, 0], floats: [])
        XCTAssertEqual(try run("ReduceSum", opset: 11, ["axes": .ints([1])], [x])[0].floats, [0, 0])
        XCTAssertEqual(try run("ReduceProd", ["axes": .ints([1])], [x])[0].floats, [1, 1])
        XCTAssertEqual(try run("ReduceMax", ["axes": .ints([1])], [x])[0].floats, [-.infinity, -.infinity])
        let ints = HostTensor(dtype: .int32, shape: [1, 0], storage: .int([]))
        XCTAssertEqual(try run("ReduceMax", ["axes": .ints([1])], [ints])[0].storage, .int([Int64(Int32.min)]))
        XCTAssertEqual(try run("ReduceMean", ["axes": .ints([1])], [ints])[0].storage, .int([0]))
    }

    func testIntegerAndBoolReductions() throws {
        let x = HostTensor(dtype: .int32, shape: [2, 2], storage: .int([1, -7, 3, 4]))
        XCTAssertEqual(try run("ReduceL1", ["axes": .ints([1])], [x])[0].storage, .int([8, 7]))
        XCTAssertEqual(try run("ReduceMin", ["axes": .ints([1])], [x])[0].storage, .int([-7, 3]))
        let flags = HostTensor(dtype: .bool, shape: [2, 2], storage: .bool([true, false, true, true]))
        XCTAssertEqual(try run("ReduceMax", opset: 20, ["keepdims": .int(0)], [flags, HostTensor(shape: [1], integers: [1])])[0].storage,
                       .bool([true, true]))
        XCTAssertEqual(try run("ReduceMin", opset: 20, ["keepdims": .int(0)], [flags, HostTensor(shape: [1], integers: [1])])[0].storage,
                       .bool([false, true]))
        XCTAssertThrowsError(try run("ReduceMean", ["axes": .ints([1])], [flags]))
    }

    func testArgMaxAndArgMinSelectFirstOrLast() throws {
        let x = HostTensor(shape: [2, 3], floats: [1, 5, 5, 2, 2, 0])
        XCTAssertEqual(try run("ArgMax", ["axis": .int(1)], [x])[0].storage, .int([1, 0]))
        XCTAssertEqual(try run("ArgMax", ["axis": .int(1), "select_last_index": .int(1)], [x])[0].storage, .int([2, 1]))
        let argmin = try run("ArgMin", ["axis": .int(0), "keepdims": .int(0)], [x])[0]
        XCTAssertEqual(argmin.dtype, .int64)
        XCTAssertEqual(argmin.shape, [3])
        XCTAssertEqual(argmin.storage, .int([0, 1, 1]))
    }

    func testArgMaxRefusesScalarsAndEmptyAxes() {
        XCTAssertThrowsError(try run("ArgMax", [:], [HostTensor(shape: [], floats: [1])]))
        XCTAssertThrowsError(try run("ArgMax", ["axis": .int(1)], [HostTensor(shape: [2, 0], floats: [])]))
    }

    func testSoftmaxBeforeOpset13NormalizesFlattenedRows() throws {
        let x = ramp([2, 2, 3])
        let y = try XCTUnwrap(try run("Softmax", opset: 11, ["axis": .int(1)], [x])[0].floats)
        XCTAssertEqual(Double(y[0..<6].reduce(0, +)), 1, accuracy: 1e-6)
        XCTAssertEqual(Double(y[6..<12].reduce(0, +)), 1, accuracy: 1e-6)
        let z = try XCTUnwrap(try run("Softmax", opset: 13, ["axis": .int(1)], [x])[0].floats)
        XCTAssertEqual(Double(z[0] + z[3]), 1, accuracy: 1e-6)
    }

    func testHardmaxIsOneHot() throws {
        let x = HostTensor(shape: [2, 3], floats: [1, 3, 3, -1, -2, -3])
        XCTAssertEqual(try run("Hardmax", [:], [x])[0].floats, [0, 1, 0, 1, 0, 0])
    }

    func testSoftmaxRefusesIntegers() {
        XCTAssertThrowsError(try run("Softmax", [:], [HostTensor(shape: [2], integers: [1, 2])]))
        XCTAssertThrowsError(try run("LogSoftmax", opset: 11, ["axis": .int(3)], [ramp([2, 2])]))
    }
}
