import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Gemm and MatMul: transposes, broadcasting, 1-D operands, integer results, refusals.
final class MatrixOpsTests: XCTestCase {
    /// Runs `op` with `attributes` on `inputs`.
    private func run(_ op: String, _ attributes: [String: OpAttribute], _ inputs: [HostTensor?], opset: Int = 13) throws -> [HostTensor] {
        let build = try XCTUnwrap(OpLibrary.builders[op])
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)
    }

    /// Asserts the call throws an ``OpError``.
    private func assertRefused(_ body: @autoclosure () throws -> [HostTensor], _ line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { XCTAssertTrue($0 is OpError, "\($0)", line: line) }
    }

    /// A float32 tensor of `shape` filled with ones.
    private func ones(_ shape: [Int]) -> HostTensor { .filled(1, dtype: .float32, shape: shape) }

    func testGemmIntegerProductWithTransposesAndBroadcastC() throws {
        let a = HostTensor(shape: [2, 2], integers: [1, 3, 2, 4])  // transposed: [[1, 2], [3, 4]]
        let b = HostTensor(shape: [2, 2], integers: [5, 7, 6, 8])  // transposed: [[5, 6], [7, 8]]
        let c = HostTensor(shape: [2, 1], integers: [1, -1])
        let y = try run("Gemm", ["transA": .int(1), "transB": .int(1), "alpha": .float(2), "beta": .float(3)], [a, b, c])[0]
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.storage, .int([41, 47, 83, 97]))
    }

    func testGemmWithoutCAndFloatAlpha() throws {
        let y = try run("Gemm", ["alpha": .float(0.5)], [ones([3, 4]), ones([4, 5])])[0]
        XCTAssertEqual(y.shape, [3, 5])
        XCTAssertEqual(y.floats, Array(repeating: 2, count: 15))
    }

    func testGemmRefusals() {
        assertRefused(try self.run("Gemm", [:], [self.ones([3, 4]), self.ones([5, 6])]))  // inner mismatch
        assertRefused(try self.run("Gemm", [:], [self.ones([2, 3, 4]), self.ones([4, 5])]))  // not 2-D
        assertRefused(try self.run("Gemm", [:], [self.ones([3, 4]), self.ones([4, 5]), self.ones([2, 5])]))  // C does not broadcast
        assertRefused(try self.run("Gemm", [:], [self.ones([1, 4]), self.ones([4, 5]), self.ones([3, 5])]))  // C wider than the result
        assertRefused(try self.run("Gemm", [:], [self.ones([3, 4]), .filled(1, dtype: .float64, shape: [4, 5])]))
        assertRefused(try self.run("Gemm", ["alpha": .float(0.5)], [HostTensor(shape: [1, 1], integers: [1]), HostTensor(shape: [1, 1], integers: [1])]))
        assertRefused(try self.run("Gemm", [:], [self.ones([3, 4])]))
    }

    func testMatMulShapesOfOneDimensionalAndBatchedOperands() throws {
        XCTAssertEqual(try run("MatMul", [:], [ones([4]), ones([4, 5])])[0].shape, [5])
        XCTAssertEqual(try run("MatMul", [:], [ones([3, 4]), ones([4])])[0].shape, [3])
        let dot = try run("MatMul", [:], [ones([4]), ones([4])])[0]
        XCTAssertEqual(dot.shape, [])
        XCTAssertEqual(dot.floats, [4])
        XCTAssertEqual(try run("MatMul", [:], [ones([2, 1, 3, 4]), ones([5, 4, 6])])[0].shape, [2, 5, 3, 6])
        XCTAssertEqual(try run("MatMul", [:], [ones([7, 4]), ones([2, 4, 1])])[0].shape, [2, 7, 1])
        XCTAssertEqual(try run("MatMul", [:], [ones([0, 4]), ones([4, 3])])[0].shape, [0, 3])
        XCTAssertEqual(try run("MatMul", [:], [ones([2, 0]), ones([0, 3])])[0].floats, Array(repeating: 0, count: 6))
    }

    func testMatMulIntegersAndFloat64() throws {
        let a = HostTensor(dtype: .int32, shape: [2, 2], storage: .int([1, 2, 3, 4]))
        let b = HostTensor(dtype: .int32, shape: [2, 2], storage: .int([5, 6, 7, 8]))
        let y = try run("MatMul", [:], [a, b])[0]
        XCTAssertEqual(y.dtype, .int32)
        XCTAssertEqual(y.storage, .int([19, 22, 43, 50]))
        let d = try run("MatMul", [:], [.filled(2, dtype: .float64, shape: [1, 3]), .filled(3, dtype: .float64, shape: [3, 1])])[0]
        XCTAssertEqual(d.storage, .double([18]))
    }

    func testMatMulRefusals() {
        assertRefused(try self.run("MatMul", [:], [self.ones([3, 4]), self.ones([5, 6])]))
        assertRefused(try self.run("MatMul", [:], [self.ones([2, 3, 4]), self.ones([3, 4, 6])]))  // batches 2 and 3
        assertRefused(try self.run("MatMul", [:], [self.ones([]), self.ones([4])]))
        assertRefused(try self.run("MatMul", [:], [self.ones([4]), .filled(1, dtype: .float16, shape: [4])]))
        assertRefused(try self.run("MatMul", [:], [HostTensor(dtype: .bool, shape: [1, 1], storage: .bool([true])),
                                                   HostTensor(dtype: .bool, shape: [1, 1], storage: .bool([true]))]))
        assertRefused(try self.run("MatMul", [:], [self.ones([4])]))
    }
}
