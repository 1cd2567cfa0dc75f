import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Edge cases and refusals of the element-wise ops (values are proven by the ONNX conformance
/// suite; these pin shapes, dtypes, exact integer facts and errors).
final class ElementwiseOpsTests: XCTestCase {
    /// Runs `op` (opset `opset`, attributes `attributes`) on `inputs`, returning its first output.
    private func run(_ op: String, _ inputs: [HostTensor?], opset: Int = 17,
                     _ attributes: [String: OpAttribute] = [:]) throws -> HostTensor {
        let build = try XCTUnwrap(ElementwiseOps.builders[op], "no builder for \(op)")
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)[0]
    }

    /// A tensor of `dtype` holding `values` in `shape`.
    private func tensor(_ dtype: DType, _ shape: [Int], _ values: [Double]) -> HostTensor {
        switch HostStorage.kind(of: dtype) {
        case .float: return HostTensor(dtype: dtype, shape: shape, storage: .float(values.map { Float($0) }))
        case .double: return HostTensor(dtype: dtype, shape: shape, storage: .double(values))
        case .int: return HostTensor(dtype: dtype, shape: shape, storage: .int(values.map { Int64($0) }))
        case .bool: return HostTensor(dtype: dtype, shape: shape, storage: .bool(values.map { $0 != 0 }))
        }
    }

    /// Asserts that `body` throws an ``OpError``.
    private func assertOpError(_ body: @autoclosure () throws -> HostTensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { XCTAssertTrue($0 is OpError, "\($0)", file: file, line: line) }
    }

    /// Add broadcasts to the common shape.
    func testAddBroadcastsToTheCommonShape() throws {
        let a = HostTensor(shape: [2, 1, 4], integers: Array(0..<8))
        let b = HostTensor(shape: [3, 1], integers: [0, 10, 20])
        let y = try run("Add", [a, b])
        XCTAssertEqual(y.shape, [2, 3, 4])
        XCTAssertEqual(y.dtype, .int64)
        XCTAssertEqual(Array(y.storage.integers.prefix(8)), [0, 1, 2, 3, 10, 11, 12, 13])
    }

    /// An empty broadcast gives an empty tensor.
    func testEmptyBroadcastGivesAnEmptyTensor() throws {
        let y = try run("Mul", [HostTensor(shape: [0, 3], floats: []), HostTensor(shape: [1, 3], floats: [1, 2, 3])])
        XCTAssertEqual(y.shape, [0, 3])
        XCTAssertEqual(y.count, 0)
    }

    /// Shapes that do not broadcast are refused.
    func testShapesThatDoNotBroadcastAreRefused() {
        assertOpError(try run("Add", [HostTensor(shape: [2, 3], floats: Array(repeating: 0, count: 6)),
                                      HostTensor(shape: [4], floats: [0, 0, 0, 0])]))
    }

    /// A broadcast too large is refused before allocating.
    func testBroadcastTooLargeIsRefusedBeforeAllocating() {
        let wide = HostTensor.filled(0, dtype: .bool, shape: [1 << 21, 1])
        let tall = HostTensor.filled(0, dtype: .bool, shape: [1, 1 << 21])
        assertOpError(try run("And", [wide, tall]))
    }

    /// Mixed dtypes and bool arithmetic are refused.
    func testMixedDtypesAndBoolArithmeticAreRefused() {
        assertOpError(try run("Add", [HostTensor(shape: [1], floats: [1]), HostTensor(shape: [1], integers: [1])]))
        assertOpError(try run("Sub", [tensor(.bool, [1], [1]), tensor(.bool, [1], [0])]))
        assertOpError(try run("Equal", [tensor(.int32, [1], [1]), tensor(.int64, [1], [1])]))
    }

    /// Integer division truncates toward zero and never traps.
    func testIntegerDivisionTruncatesTowardZeroAndNeverTraps() throws {
        let y = try run("Div", [tensor(.int32, [5], [-7, 7, -7, 7, 5]), tensor(.int32, [5], [2, -2, -2, 2, 0])])
        XCTAssertEqual(y.storage.integers, [-3, -3, 3, 3, 0])
        let z = try run("Div", [HostTensor(shape: [1], integers: [.min]), HostTensor(shape: [1], integers: [-1])])
        XCTAssertEqual(z.storage.integers, [.min])
    }

    /// Narrow integers wrap.
    func testNarrowIntegersWrap() throws {
        let y = try run("Sub", [tensor(.uint8, [2], [3, 250]), tensor(.uint8, [2], [5, 10])])
        XCTAssertEqual(y.dtype, .uint8)
        XCTAssertEqual(y.storage.integers, [254, 240])
        let n = try run("Neg", [tensor(.int8, [2], [-128, 5])])
        XCTAssertEqual(n.storage.integers, [-128, -5])
        let abs = try run("Abs", [HostTensor(shape: [1], integers: [.min])])
        XCTAssertEqual(abs.storage.integers, [.min])
    }

    /// Pow keeps the base type with mixed exponents.
    func testPowKeepsTheBaseTypeWithMixedExponents() throws {
        let y = try run("Pow", [tensor(.int32, [4], [2, 3, -2, 1]), tensor(.int64, [4], [10, 2, 3, -4])])
        XCTAssertEqual(y.dtype, .int32)
        XCTAssertEqual(y.storage.integers, [1024, 9, -8, 1])
        let z = try run("Pow", [tensor(.int64, [2], [2, 9]), tensor(.float32, [2], [0.5, 0.5])])
        XCTAssertEqual(z.dtype, .int64)
        XCTAssertEqual(z.storage.integers, [1, 3])
        let f = try run("Pow", [tensor(.float32, [1], [2]), tensor(.int64, [1], [3])])
        XCTAssertEqual(f.dtype, .float32)
        XCTAssertEqual(f.floats, [8])
        assertOpError(try run("Pow", [tensor(.bool, [1], [1]), tensor(.int64, [1], [3])]))
    }

    /// Comparisons give bools.
    func testComparisonsGiveBools() throws {
        let y = try run("GreaterOrEqual", [tensor(.float32, [3], [1, 2, 3]), tensor(.float32, [], [2])])
        XCTAssertEqual(y.dtype, .bool)
        XCTAssertEqual(y.storage, .bool([false, true, true]))
        let e = try run("Equal", [tensor(.float64, [2], [.nan, 1]), tensor(.float64, [2], [.nan, 1])])
        XCTAssertEqual(e.storage, .bool([false, true]))
    }

    /// Logic ops take only bools.
    func testLogicOpsTakeOnlyBools() throws {
        let y = try run("Xor", [tensor(.bool, [2, 1], [1, 0]), tensor(.bool, [2], [1, 0])])
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.storage, .bool([false, true, true, false]))
        assertOpError(try run("And", [tensor(.int64, [1], [1]), tensor(.bool, [1], [1])]))
        assertOpError(try run("Not", [tensor(.float32, [1], [1])]))
    }

    /// Where broadcasts its three operands.
    func testWhereBroadcastsItsThreeOperands() throws {
        let y = try run("Where", [tensor(.bool, [2, 1], [1, 0]), tensor(.int64, [3], [1, 2, 3]), tensor(.int64, [], [-1])])
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.storage.integers, [1, 2, 3, -1, -1, -1])
        assertOpError(try run("Where", [tensor(.int64, [1], [1]), tensor(.int64, [1], [1]), tensor(.int64, [1], [1])]))
        assertOpError(try run("Where", [tensor(.bool, [1], [1]), tensor(.int64, [1], [1]), tensor(.int32, [1], [1])]))
    }

    /// Unary math refuses wrong types.
    func testUnaryMathRefusesWrongTypes() {
        assertOpError(try run("Sqrt", [tensor(.int64, [1], [4])]))
        assertOpError(try run("Exp", [tensor(.bool, [1], [1])]))
    }

    /// Max, Sum, Min and Mean over several inputs, and their refusals.
    func testVariadicOps() throws {
        let y = try run("Max", [tensor(.int16, [3], [1, 5, 3]), tensor(.int16, [1], [2]), tensor(.int16, [2, 1], [0, 4])])
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(y.storage.integers, [2, 5, 3, 4, 5, 4])
        let one = try run("Sum", [tensor(.float32, [2], [1, 2])])
        XCTAssertEqual(one.floats, [1, 2])
        assertOpError(try run("Min", []))
        assertOpError(try run("Mean", [tensor(.int64, [1], [1]), tensor(.int64, [1], [2])]))
        assertOpError(try run("Max", [tensor(.bool, [1], [1])]))
    }

    /// Before opset 7, broadcast=1 with axis lines B up with A at that axis.
    func testLegacyBroadcastLinesUpAtAxis() throws {
        let a = HostTensor.filled(1, dtype: .float32, shape: [2, 3, 4])
        let b = tensor(.float32, [3], [0, 10, 20])
        let y = try run("Add", [a, b], opset: 6, ["broadcast": .int(1), "axis": .int(1)])
        XCTAssertEqual(y.shape, [2, 3, 4])
        XCTAssertEqual(Array(y.storage.doubles.prefix(5)), [1, 1, 1, 1, 11])
        assertOpError(try run("Add", [a, tensor(.float32, [4], [0, 0, 0, 0])], opset: 6, ["broadcast": .int(1), "axis": .int(3)]))
    }

    /// Cast converts and refuses types bnconv does not hold.
    func testCastConvertsAndRefusesTypesBnconvDoesNotHold() throws {
        let y = try run("Cast", [tensor(.float32, [4], [-1.7, 300.2, 0, 2.9])], opset: 13, ["to": .int(2)])
        XCTAssertEqual(y.dtype, .uint8)
        XCTAssertEqual(y.storage.integers, [255, 44, 0, 2])
        let b = try run("Cast", [tensor(.float32, [2], [0, -0.5])], opset: 13, ["to": .int(9)])
        XCTAssertEqual(b.storage, .bool([false, true]))
        let old = try run("Cast", [tensor(.int64, [1], [3])], opset: 5, ["to": .string("DOUBLE")])
        XCTAssertEqual(old.dtype, .float64)
        assertOpError(try run("Cast", [tensor(.float32, [1], [1])], opset: 13, ["to": .int(8)]))
        assertOpError(try run("Cast", [tensor(.float32, [1], [1])], opset: 13, ["to": .int(4)]))
        assertOpError(try run("Cast", [tensor(.float32, [1], [1])], opset: 19, ["to": .int(17), "saturate": .int(1)]))
        assertOpError(try run("Cast", [tensor(.float32, [1], [1])], opset: 13))
        assertOpError(try run("Cast", [tensor(.float32, [1], [1])], opset: 5, ["to": .string("NOPE")]))
    }

    /// CastLike takes the type of its second input.
    func testCastLikeTakesTheSecondInputsType() throws {
        let y = try run("CastLike", [tensor(.float64, [2], [1.5, -2.5]), tensor(.int16, [0], [])])
        XCTAssertEqual(y.dtype, .int16)
        XCTAssertEqual(y.storage.integers, [1, -2])
    }
}
