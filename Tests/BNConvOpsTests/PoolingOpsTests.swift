import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// MaxPool, AveragePool, LpPool and the global pools: shapes, exact small results, refusals.
final class PoolingOpsTests: XCTestCase {
    /// Runs `op` with `attributes` on `inputs`.
    private func run(_ op: String, _ attributes: [String: OpAttribute], _ inputs: [HostTensor?], opset: Int = 19) throws -> [HostTensor] {
        let build = try XCTUnwrap(OpLibrary.builders[op])
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)
    }

    /// Asserts the call throws an ``OpError``.
    private func assertRefused(_ body: @autoclosure () throws -> [HostTensor], _ line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { XCTAssertTrue($0 is OpError, "\($0)", line: line) }
    }

    /// 0, 1, ..., 15 as a (1, 1, 4, 4) float32 tensor.
    private let ramp = HostTensor(shape: [1, 1, 4, 4], floats: (0..<16).map(Float.init))

    func testMaxPoolValuesAndIndicesInBothStorageOrders() throws {
        let rowMajor = try run("MaxPool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])], [ramp])
        XCTAssertEqual(rowMajor[0].floats, [5, 7, 13, 15])
        XCTAssertEqual(rowMajor[1].dtype, .int64)
        XCTAssertEqual(rowMajor[1].storage, .int([5, 7, 13, 15]))
        let columnMajor = try run("MaxPool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "storage_order": .int(1)], [ramp])
        XCTAssertEqual(columnMajor[1].storage, .int([5, 13, 7, 15]))
    }

    func testMaxPoolCeilModeDropsAWindowStartingInTheBorder() throws {
        let x = HostTensor.filled(1, dtype: .float32, shape: [1, 1, 2, 2])
        let y = try run("MaxPool", ["kernel_shape": .ints([1, 1]), "strides": .ints([2, 2]), "ceil_mode": .int(1)], [x])[0]
        XCTAssertEqual(y.shape, [1, 1, 1, 1])
        XCTAssertEqual(try run("MaxPool", ["kernel_shape": .ints([2, 2]), "strides": .ints([3, 3]), "ceil_mode": .int(1)], [ramp])[0].shape, [1, 1, 2, 2])
        XCTAssertEqual(try run("MaxPool", ["kernel_shape": .ints([2, 2]), "strides": .ints([3, 3])], [ramp])[0].shape, [1, 1, 1, 1])
    }

    func testMaxPoolKeepsIntegerTypes() throws {
        for dtype in [DType.uint8, .int8] {
            let x = HostTensor(dtype: dtype, shape: [1, 1, 2, 2], storage: .int([3, 9, 1, 7]))
            let y = try run("MaxPool", ["kernel_shape": .ints([2, 2])], [x])[0]
            XCTAssertEqual(y.dtype, dtype)
            XCTAssertEqual(y.storage, .int([9]))
        }
    }

    func testAveragePoolCountIncludePad() throws {
        let x = HostTensor.filled(1, dtype: .float32, shape: [1, 1, 3, 3])
        let attributes: [String: OpAttribute] = ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]
        XCTAssertEqual(try run("AveragePool", attributes, [x])[0].floats, Array(repeating: 1, count: 9))
        var including = attributes
        including["count_include_pad"] = .int(1)
        let y = try XCTUnwrap(try run("AveragePool", including, [x])[0].floats)
        XCTAssertEqual(y[4], 1)
        XCTAssertEqual(y[0], 4.0 / 9.0, accuracy: 1e-7)
    }

    func testWindowShapesOf1DAnd3DAndAutoPad() throws {
        let x1 = HostTensor.filled(1, dtype: .float32, shape: [2, 3, 10])
        XCTAssertEqual(try run("AveragePool", ["kernel_shape": .ints([3]), "strides": .ints([2])], [x1])[0].shape, [2, 3, 4])
        XCTAssertEqual(try run("LpPool", ["kernel_shape": .ints([3]), "auto_pad": .string("SAME_LOWER"), "strides": .ints([3])], [x1])[0].shape, [2, 3, 4])
        let x3 = HostTensor.filled(1, dtype: .float64, shape: [1, 2, 5, 6, 7])
        let y = try run("MaxPool", ["kernel_shape": .ints([2, 2, 2]), "dilations": .ints([2, 1, 2]), "auto_pad": .string("VALID")], [x3])[0]
        XCTAssertEqual(y.shape, [1, 2, 3, 5, 5])
        XCTAssertEqual(y.dtype, .float64)
    }

    func testLpPoolOfOnesIsTheRootOfTheTapCount() throws {
        let x = HostTensor.filled(1, dtype: .float32, shape: [1, 1, 2, 2])
        XCTAssertEqual(try run("LpPool", ["kernel_shape": .ints([2, 2])], [x])[0].floats, [2])
        XCTAssertEqual(try run("GlobalLpPool", ["p": .int(1)], [x])[0].floats, [4])
    }

    func testGlobalPoolsKeepSpatialAxesOfOne() throws {
        let x = HostTensor(shape: [1, 2, 1, 3], floats: [1, 2, 6, -1, -2, 0])
        let average = try run("GlobalAveragePool", [:], [x])[0]
        XCTAssertEqual(average.shape, [1, 2, 1, 1])
        XCTAssertEqual(average.floats, [3, -1])
        XCTAssertEqual(try run("GlobalMaxPool", [:], [x])[0].floats, [6, 0])
        let x1 = HostTensor.filled(2, dtype: .float16, shape: [3, 4, 5])
        let y = try run("GlobalAveragePool", [:], [x1])[0]
        XCTAssertEqual(y.shape, [3, 4, 1])
        XCTAssertEqual(y.dtype, .float16)
    }

    func testPoolsRefuseBadAttributesAndInputs() {
        let x = ramp
        assertRefused(try self.run("MaxPool", [:], [x]))  // kernel_shape missing
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([2])], [x]))  // rank mismatch
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1])], [x]))
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([2, 2]), "pads": .ints([-1, 0, 0, 0])], [x]))
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([2, 2]), "strides": .ints([0, 1])], [x]))
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([Int.max, 2])], [x]))
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([2, 2]), "dilations": .ints([Int.max, 1])], [x]))
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([5, 5])], [x]))  // window larger than the input
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([2, 2]), "auto_pad": .string("SAME")], [x]))
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([2, 2])], [HostTensor(dtype: .bool, shape: [1, 1, 2, 2], storage: .bool([true, false, true, false]))]))
        assertRefused(try self.run("MaxPool", ["kernel_shape": .ints([1, 1, 1, 1])], [HostTensor.filled(1, dtype: .float32, shape: [1, 1, 1, 1, 1, 1])]))
        assertRefused(try self.run("AveragePool", ["kernel_shape": .ints([2, 2])], [HostTensor(dtype: .int32, shape: [1, 1, 2, 2], storage: .int([1, 2, 3, 4]))]))
        assertRefused(try self.run("LpPool", ["kernel_shape": .ints([2, 2]), "p": .int(0)], [x]))
        assertRefused(try self.run("AveragePool", ["kernel_shape": .ints([2, 2])], []))
        assertRefused(try self.run("GlobalAveragePool", [:], [HostTensor(shape: [3], floats: [1, 2, 3])]))
        assertRefused(try self.run("GlobalMaxPool", [:], [HostTensor(shape: [1, 1, 0], floats: [])]))
    }
}
