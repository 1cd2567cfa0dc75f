import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Edge cases and refusals of the shape family (``ShapeOps``): scalars, empty tensors, exact
/// int64 shape arithmetic, negative indices and steps, and errors thrown (never a trap) for
/// inputs that do not fit the op.
final class ShapeOpsTests: XCTestCase {
    /// The outputs of ONNX `op` at `opset` with `attributes` on `inputs`.
    private func run(_ op: String, opset: Int = 18, _ attributes: [String: OpAttribute] = [:],
                     _ inputs: [HostTensor?]) throws -> [HostTensor] {
        let kernel = try OpLibrary.kernel(for: TensorOp(type: op, opset: opset, attributes: attributes, arguments: []))
        return try kernel.run(inputs)
    }

    /// The outputs of ONNX `op` at `opset`, without attributes, on `inputs`.
    private func run(_ op: String, opset: Int = 18, _ inputs: [HostTensor?]) throws -> [HostTensor] {
        try run(op, opset: opset, [:], inputs)
    }

    /// Asserts that running the op, without attributes, throws an ``OpError``.
    private func assertThrows(_ op: String, opset: Int = 18, _ inputs: [HostTensor?],
                              file: StaticString = #filePath, line: UInt = #line) {
        assertThrows(op, opset: opset, [:], inputs, file: file, line: line)
    }

    /// An int64 tensor of `values` (1-D unless `shape` says otherwise).
    private func ints(_ values: [Int64], _ shape: [Int]? = nil) -> HostTensor {
        HostTensor(shape: shape ?? [values.count], integers: values)
    }

    /// The int64 elements of `t`.
    private func values(_ t: HostTensor) -> [Int64] { t.storage.integers }

    /// Asserts that running the op throws an ``OpError``.
    private func assertThrows(_ op: String, opset: Int = 18, _ attributes: [String: OpAttribute] = [:],
                              _ inputs: [HostTensor?], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try run(op, opset: opset, attributes, inputs), file: file, line: line) { error in
            XCTAssertTrue(error is OpError, "\(error)", file: file, line: line)
        }
    }

    func testShapeGatherUnsqueezeConcatReshapeChainIsExact() throws {
        let x = HostTensor.filled(1, dtype: .float32, shape: [2, 3, 4])
        let shape = try run("Shape", [x])[0]
        XCTAssertEqual(shape.shape, [3])
        XCTAssertEqual(values(shape), [2, 3, 4])
        let last = try run("Gather", [shape, ints([-1], [])])[0]
        XCTAssertEqual(last.shape, [])
        XCTAssertEqual(values(last), [4])
        let unsqueezed = try run("Unsqueeze", opset: 13, [last, ints([0])])[0]
        XCTAssertEqual(unsqueezed.shape, [1])
        let target = try run("Concat", ["axis": .int(0)], [ints([-1]), unsqueezed])[0]
        XCTAssertEqual(values(target), [-1, 4])
        let reshaped = try run("Reshape", opset: 14, [x, target])[0]
        XCTAssertEqual(reshaped.shape, [6, 4])
    }

    func testShapeStartEndClampAndScalar() throws {
        let x = HostTensor.filled(0, dtype: .bool, shape: [2, 3, 4])
        XCTAssertEqual(values(try run("Shape", opset: 15, ["start": .int(-2), "end": .int(100)], [x])[0]), [3, 4])
        XCTAssertEqual(try run("Shape", opset: 15, ["start": .int(2), "end": .int(1)], [x])[0].shape, [0])
        let scalar = ints([7], [])
        XCTAssertEqual(try run("Shape", [scalar])[0].shape, [0])
        let size = try run("Size", [HostTensor.filled(0, dtype: .float32, shape: [0, 5])])[0]
        XCTAssertEqual(size.shape, [])
        XCTAssertEqual(values(size), [0])
    }

    func testReshapeZeroMinusOneAndAllowZero() throws {
        let x = HostTensor.filled(0, dtype: .int64, shape: [2, 3, 4])
        XCTAssertEqual(try run("Reshape", opset: 14, [x, ints([0, -1])])[0].shape, [2, 12])
        let empty = HostTensor.filled(0, dtype: .float32, shape: [0, 3])
        XCTAssertEqual(try run("Reshape", opset: 14, ["allowzero": .int(1)], [empty, ints([3, 0])])[0].shape, [3, 0])
        assertThrows("Reshape", opset: 14, [x, ints([5, -1])])
        assertThrows("Reshape", opset: 14, [x, ints([-1, -1])])
        assertThrows("Reshape", opset: 14, ["allowzero": .int(1)], [empty, ints([0, -1])])
        assertThrows("Reshape", opset: 14, [x, ints([0, 0, 0, 0])])
        assertThrows("Reshape", opset: 14, [x, HostTensor(shape: [2], floats: [6, 4])])
        XCTAssertEqual(try run("Reshape", opset: 4, ["shape": .ints([-1])], [x])[0].shape, [24])
    }

    func testFlattenSqueezeUnsqueezeEdges() throws {
        let x = HostTensor.filled(0, dtype: .float32, shape: [1, 3, 1, 2])
        XCTAssertEqual(try run("Flatten", ["axis": .int(0)], [x])[0].shape, [1, 6])
        XCTAssertEqual(try run("Flatten", ["axis": .int(4)], [x])[0].shape, [6, 1])
        assertThrows("Flatten", ["axis": .int(5)], [x])
        XCTAssertEqual(try run("Squeeze", opset: 13, [x])[0].shape, [3, 2])
        XCTAssertEqual(try run("Squeeze", opset: 11, ["axes": .ints([-2])], [x])[0].shape, [1, 3, 2])
        assertThrows("Squeeze", opset: 13, [x, ints([1])])
        assertThrows("Squeeze", opset: 13, [x, ints([4])])
        XCTAssertEqual(try run("Unsqueeze", opset: 13, [ints([5], []), ints([0, -1])])[0].shape, [1, 1])
        XCTAssertEqual(try run("Unsqueeze", opset: 11, ["axes": .ints([1])], [x])[0].shape, [1, 1, 3, 1, 2])
        assertThrows("Unsqueeze", opset: 13, [x, ints([1, 1])])
        assertThrows("Unsqueeze", opset: 13, [x])
    }

    func testTransposeDefaultAndBadPermutation() throws {
        let x = HostTensor(shape: [2, 3], integers: [0, 1, 2, 3, 4, 5])
        let t = try run("Transpose", [x])[0]
        XCTAssertEqual(t.shape, [3, 2])
        XCTAssertEqual(values(t), [0, 3, 1, 4, 2, 5])
        assertThrows("Transpose", ["perm": .ints([0, 0])], [x])
        assertThrows("Transpose", ["perm": .ints([1, 0, 2])], [x])
        XCTAssertEqual(try run("Transpose", [ints([9], [])])[0].shape, [])
    }

    func testConcatAndSplitEdges() throws {
        let a = HostTensor(shape: [1, 2], integers: [1, 2]), b = HostTensor(shape: [2, 2], integers: [3, 4, 5, 6])
        XCTAssertEqual(values(try run("Concat", ["axis": .int(-2)], [a, b])[0]), [1, 2, 3, 4, 5, 6])
        assertThrows("Concat", ["axis": .int(1)], [a, b])
        assertThrows("Concat", ["axis": .int(0)], [a, HostTensor(shape: [1, 2], floats: [1, 2])])
        assertThrows("Concat", ["axis": .int(0)], [ints([1], []), ints([2], [])])
        assertThrows("Concat", [:], [a, b])

        let seven = ints(Array(0..<7))
        let parts = try run("Split", ["num_outputs": .int(3)], [seven])
        XCTAssertEqual(parts.map(\.shape), [[3], [3], [1]])
        XCTAssertEqual(values(parts[2]), [6])
        let sized = try run("Split", opset: 13, [seven, ints([0, 7])])
        XCTAssertEqual(sized.map(\.shape), [[0], [7]])
        assertThrows("Split", opset: 13, [seven, ints([3, 3])])
        assertThrows("Split", opset: 13, [seven])
        assertThrows("Split", ["num_outputs": .int(4)], [ints([1, 2, 3, 4, 5])])
        XCTAssertEqual(try run("Split", ["num_outputs": .int(5)], [ints([1, 2, 3, 4])]).map(\.shape), [[1], [1], [1], [1], [0]])
    }

    func testSliceNegativeStepsAndClamping() throws {
        let x = ints(Array(0..<10))
        let reversed = try run("Slice", [x, ints([-1]), ints([Int64.min]), ints([0]), ints([-1])])[0]
        XCTAssertEqual(values(reversed), Array((0..<10).reversed()))
        let strided = try run("Slice", [x, ints([1]), ints([Int64.max]), ints([0]), ints([3])])[0]
        XCTAssertEqual(values(strided), [1, 4, 7])
        XCTAssertEqual(try run("Slice", [x, ints([8]), ints([2])])[0].shape, [0])
        XCTAssertEqual(values(try run("Slice", opset: 9, ["starts": .ints([-3]), "ends": .ints([100])], [x])[0]), [7, 8, 9])
        assertThrows("Slice", [x, ints([0]), ints([1]), ints([0]), ints([0])])
        assertThrows("Slice", [x, ints([0]), ints([1]), ints([1])])
        assertThrows("Slice", [x, ints([0, 0]), ints([1])])
    }

    func testGatherNegativeIndicesAndRefusals() throws {
        let x = HostTensor(shape: [2, 3], integers: [0, 1, 2, 3, 4, 5])
        let g = try run("Gather", ["axis": .int(1)], [x, HostTensor(dtype: .int32, shape: [2], storage: .int([-1, 0]))])[0]
        XCTAssertEqual(g.shape, [2, 2])
        XCTAssertEqual(values(g), [2, 0, 5, 3])
        assertThrows("Gather", [x, ints([2])])
        assertThrows("Gather", [x, HostTensor(shape: [1], floats: [0])])
        assertThrows("Gather", [ints([1], []), ints([0])])
        let e = try run("GatherElements", ["axis": .int(1)], [x, HostTensor(shape: [2, 1], integers: [-1, 1])])[0]
        XCTAssertEqual(values(e), [2, 4])
        assertThrows("GatherElements", [x, ints([0])])
        assertThrows("GatherElements", ["axis": .int(1)], [x, HostTensor(shape: [2, 1], integers: [3, 0])])
    }

    func testExpandTileAndSizeLimits() throws {
        let x = ints([1, 2, 3])
        XCTAssertEqual(try run("Expand", [x, ints([2, 1])])[0].shape, [2, 3])
        XCTAssertEqual(try run("Expand", [ints([4], []), ints([0, 2])])[0].shape, [0, 2])
        assertThrows("Expand", [x, ints([2, 2])])
        assertThrows("Expand", [x, ints([1 << 30, 1 << 30, 3])])
        let tiled = try run("Tile", opset: 13, [x, ints([2])])[0]
        XCTAssertEqual(values(tiled), [1, 2, 3, 1, 2, 3])
        assertThrows("Tile", opset: 13, [x, ints([1, 1])])
        assertThrows("Tile", opset: 13, [x, ints([Int64(1) << 62])])
        assertThrows("Tile", opset: 13, [x, ints([-1])])
    }

    func testPadModesCropAndExactIntegerFill() throws {
        let x = HostTensor(shape: [1, 3], integers: [1, 2, 3])
        let fill = Int64(1) << 60 + 1
        let padded = try run("Pad", opset: 13, [x, ints([0, 1, 0, 1]), ints([fill], [])])[0]
        XCTAssertEqual(values(padded), [fill, 1, 2, 3, fill])
        let reflect = try run("Pad", opset: 13, ["mode": .string("reflect")], [x, ints([0, 2, 0, 2])])[0]
        XCTAssertEqual(values(reflect), [3, 2, 1, 2, 3, 2, 1])
        let edge = try run("Pad", opset: 13, ["mode": .string("edge")], [x, ints([0, 1, 0, -2])])[0]
        XCTAssertEqual(values(edge), [1, 1])
        let wrap = try run("Pad", opset: 19, ["mode": .string("wrap")], [x, ints([0, 2, 0, 1])])[0]
        XCTAssertEqual(values(wrap), [2, 3, 1, 2, 3, 1])
        let axes = try run("Pad", opset: 18, [x, ints([1, 0]), nil, ints([-2])])[0]
        XCTAssertEqual(axes.shape, [2, 3])
        XCTAssertEqual(values(try run("Pad", opset: 2, ["pads": .ints([0, 1, 0, 0]), "value": .float(9)], [x])[0]), [9, 1, 2, 3])
        assertThrows("Pad", opset: 13, [x, ints([0, -4, 0, 0])])
        assertThrows("Pad", opset: 13, [x, ints([0, 1])])
        assertThrows("Pad", opset: 13, ["mode": .string("edge")], [HostTensor.filled(0, dtype: .int64, shape: [0]), ints([1, 1])])
        XCTAssertThrowsError(try run("Pad", opset: 13, ["mode": .string("mirror")], [x, ints([0, 0, 0, 0])]))
    }

    func testDepthToSpaceAndSpaceToDepthShapes() throws {
        let x = HostTensor.filled(0, dtype: .float32, shape: [1, 8, 2, 3])
        XCTAssertEqual(try run("DepthToSpace", ["blocksize": .int(2), "mode": .string("CRD")], [x])[0].shape, [1, 2, 4, 6])
        assertThrows("DepthToSpace", ["blocksize": .int(3)], [x])
        assertThrows("DepthToSpace", [:], [x])
        XCTAssertEqual(try run("SpaceToDepth", ["blocksize": .int(2)], [HostTensor.filled(0, dtype: .int64, shape: [1, 2, 4, 6])])[0].shape, [1, 8, 2, 3])
        assertThrows("SpaceToDepth", ["blocksize": .int(2)], [HostTensor.filled(0, dtype: .int64, shape: [1, 2, 3, 6])])
    }

    func testDropoutInferenceAndTrainingRefusal() throws {
        let x = HostTensor(shape: [2], floats: [1, 2])
        let out = try run("Dropout", opset: 13, [x])
        XCTAssertEqual(out[0], x)
        XCTAssertEqual(out[1].dtype, .bool)
        XCTAssertEqual(out[1].storage, .bool([true, true]))
        let training = HostTensor(dtype: .bool, shape: [], storage: .bool([true]))
        XCTAssertEqual(try run("Dropout", opset: 13, [x, HostTensor(shape: [], floats: [0]), training])[0], x)
        XCTAssertThrowsError(try run("Dropout", opset: 13, [x, HostTensor(shape: [], floats: [0.5]), training])) { error in
            XCTAssertTrue("\(error)".contains("training"), "\(error)")
        }
        XCTAssertEqual(try run("Dropout", opset: 9, [x])[1].dtype, .float32)
    }

    func testConstantsAndRange() throws {
        XCTAssertEqual(try run("Constant", ["value_ints": .ints([1, -2])], [])[0], ints([1, -2]))
        XCTAssertEqual(try run("Constant", ["value_float": .float(2.5)], [])[0], HostTensor(shape: [], floats: [2.5]))
        XCTAssertThrowsError(try run("Constant", ["value_string": .string("a")], []))
        XCTAssertThrowsError(try run("Constant", [:], []))
        let big = Int64(1) << 62 + 3
        let filled = try run("ConstantOfShape", ["value": .tensor(ints([big]).tensor())], [ints([2, 0])])[0]
        XCTAssertEqual(filled.shape, [2, 0])
        let scalar = try run("ConstantOfShape", [ints([])])[0]
        XCTAssertEqual(scalar, HostTensor(shape: [], floats: [0]))
        XCTAssertEqual(values(try run("ConstantOfShape", ["value": .tensor(ints([big]).tensor())], [ints([2])])[0]), [big, big])
        assertThrows("ConstantOfShape", [ints([1 << 30, 1 << 30])])
        assertThrows("ConstantOfShape", [ints([-1])])
        XCTAssertEqual(values(try run("Range", [ints([10], []), ints([-3], []), ints([-4], [])])[0]), [10, 6, 2, -2])
        XCTAssertEqual(try run("Range", [ints([5], []), ints([1], []), ints([1], [])])[0].shape, [0])
        assertThrows("Range", [ints([0], []), ints([5], []), ints([0], [])])
        assertThrows("Range", [ints([0], []), ints([Int64.max], []), ints([1], [])])
        assertThrows("Range", [ints([0], []), HostTensor(shape: [], floats: [5]), ints([1], [])])
    }

    func testTriluOneHotNonZero() throws {
        let m = HostTensor(shape: [2, 3], integers: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(values(try run("Trilu", [m])[0]), [1, 2, 3, 0, 5, 6])
        XCTAssertEqual(values(try run("Trilu", ["upper": .int(0)], [m, ints([-1], [])])[0]), [0, 0, 0, 4, 0, 0])
        assertThrows("Trilu", [ints([1])])
        let hot = try run("OneHot", [ints([-1, 5]), ints([3], []), ints([0, 1])])[0]
        XCTAssertEqual(hot.shape, [2, 3])
        XCTAssertEqual(values(hot), [0, 0, 1, 0, 0, 0])
        assertThrows("OneHot", [ints([0]), ints([0], []), ints([0, 1])])
        let nz = try run("NonZero", [HostTensor(shape: [2, 2], integers: [0, 3, 1, 0])])[0]
        XCTAssertEqual(nz.shape, [2, 2])
        XCTAssertEqual(values(nz), [0, 1, 1, 0])
        XCTAssertEqual(try run("NonZero", [HostTensor.filled(0, dtype: .float32, shape: [0, 4])])[0].shape, [2, 0])
    }
}
