import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Edge cases and refusals of Resize and Upsample.
final class ResizeOpsTests: XCTestCase {
    /// Runs `op` of `opset` with `attributes` on `inputs`.
    private func run(_ op: String, opset: Int, _ attributes: [String: OpAttribute] = [:],
                     _ inputs: [HostTensor?]) throws -> [HostTensor] {
        let build = try XCTUnwrap(ResizeOps.builders[op])
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)
    }

    /// A float32 vector.
    private func floats(_ values: [Float]) -> HostTensor { HostTensor(shape: [values.count], floats: values) }
    /// An int64 vector.
    private func sizes(_ values: [Int64]) -> HostTensor { HostTensor(shape: [values.count], integers: values) }
    /// A 1x1x2x2 int64 image holding 1...4.
    private let image = HostTensor(shape: [1, 1, 2, 2], integers: [1, 2, 3, 4])

    func testNearestUpsamplingRepeatsIntegers() throws {
        let y = try run("Resize", opset: 13, [:], [image, nil, floats([1, 1, 2, 2])])[0]
        XCTAssertEqual(y.dtype, .int64)
        XCTAssertEqual(y.shape, [1, 1, 4, 4])
        XCTAssertEqual(y.storage, .int([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]))
        let up = try run("Upsample", opset: 7, ["scales": .floats([1, 1, 1, 2])], [image])[0]
        XCTAssertEqual(up.storage, .int([1, 1, 2, 2, 3, 3, 4, 4]))
    }

    func testOutputShapeFromScalesAndSizes() throws {
        let x = HostTensor(shape: [1, 1, 5, 5], floats: Array(repeating: 1, count: 25))
        XCTAssertEqual(try run("Resize", opset: 13, ["mode": .string("linear")], [x, nil, floats([1, 1, 0.6, 1.5])])[0].shape, [1, 1, 3, 7])
        XCTAssertEqual(try run("Resize", opset: 13, ["mode": .string("cubic")], [x, nil, nil, sizes([1, 1, 2, 9])])[0].shape, [1, 1, 2, 9])
        XCTAssertEqual(try run("Resize", opset: 18, ["axes": .ints([3, 2]), "keep_aspect_ratio_policy": .string("not_larger")],
                               [x, nil, nil, sizes([10, 20])])[0].shape, [1, 1, 10, 10])
        XCTAssertEqual(try run("Resize", opset: 10, [:], [x, floats([1, 1, 2, 1])])[0].shape, [1, 1, 10, 5])
    }

    func testBadScalesAndSizesAreErrors() {
        XCTAssertThrowsError(try run("Resize", opset: 13, [:], [image, nil, nil, nil]))
        XCTAssertThrowsError(try run("Resize", opset: 13, [:], [image, nil, floats([1, 1, 2, 2]), sizes([1, 1, 4, 4])]))
        XCTAssertThrowsError(try run("Resize", opset: 13, [:], [image, nil, floats([2, 2])]))
        XCTAssertThrowsError(try run("Resize", opset: 13, [:], [image, nil, floats([1, 1, -2, 2])]))
        XCTAssertThrowsError(try run("Resize", opset: 13, [:], [image, nil, nil, sizes([1, 1, -1, 4])]))
        XCTAssertThrowsError(try run("Resize", opset: 13, [:], [image, nil, nil, sizes([1 << 30, 1 << 30, 1 << 30, 4])]))
        XCTAssertThrowsError(try run("Resize", opset: 18, ["axes": .ints([2, 2])], [image, nil, floats([2, 2])]))
        XCTAssertThrowsError(try run("Resize", opset: 13, ["coordinate_transformation_mode": .string("tf_crop_and_resize")],
                                     [image, nil, floats([1, 1, 2, 2])]))
        let flags = HostTensor(dtype: .bool, shape: [1, 2], storage: .bool([true, false]))
        XCTAssertThrowsError(try run("Resize", opset: 13, [:], [flags, nil, floats([1, 2])]))
    }

    func testTinyAntialiasScaleGivesAnEmptyAxis() throws {
        let x = HostTensor(shape: [1, 4], floats: [1, 2, 3, 4])
        XCTAssertEqual(try run("Resize", opset: 18, ["mode": .string("linear"), "antialias": .int(1)],
                               [x, nil, floats([1, 1e-30])])[0].shape, [1, 0])
    }

    func testUnsupportedSettingsAreRefusedByName() {
        XCTAssertThrowsError(try run("Resize", opset: 13, ["mode": .string("area")], [])) { error in
            XCTAssertEqual("\(error)", "ONNX Resize with mode 'area' is not supported")
        }
        XCTAssertThrowsError(try run("Resize", opset: 13, ["coordinate_transformation_mode": .string("crop")], []))
        XCTAssertThrowsError(try run("Resize", opset: 13, ["nearest_mode": .string("simple")], []))
        XCTAssertThrowsError(try run("Upsample", opset: 1, [:], []))
        XCTAssertThrowsError(try run("Upsample", opset: 7, [:], []))
    }
}
