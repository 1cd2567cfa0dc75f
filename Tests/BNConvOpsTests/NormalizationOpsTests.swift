import XCTest
@testable import BNConvOps
import BNConvCore
import BNConvModel

/// Edge cases and refusals of the normalization family.
final class NormalizationOpsTests: XCTestCase {
    /// Runs `op` of `opset` with `attributes` on `inputs`.
    private func run(_ op: String, opset: Int, _ attributes: [String: OpAttribute] = [:],
                     _ inputs: [HostTensor?]) throws -> [HostTensor] {
        let build = try XCTUnwrap(NormalizationOps.builders[op])
        return try build(OpAttributes(op: op, opset: opset, values: attributes)).run(inputs)
    }

    /// A float32 tensor of `shape` holding 0, 1, 2, ...
    private func ramp(_ shape: [Int]) -> HostTensor {
        HostTensor(shape: shape, floats: (0..<shape.reduce(1, *)).map(Float.init))
    }

    /// A float32 vector.
    private func vector(_ values: [Float]) -> HostTensor { HostTensor(shape: [values.count], floats: values) }

    func testBatchNormalizationInference() throws {
        let x = ramp([1, 2, 2])
        let y = try run("BatchNormalization", opset: 15, [:],
                        [x, vector([1, 1]), vector([0, 10]), vector([0, 0]), vector([1, 1])])
        XCTAssertEqual(y.count, 1)
        XCTAssertEqual(y[0].shape, [1, 2, 2])
    }

    func testBatchNormalizationTrainingWritesRunningStatistics() throws {
        let x = ramp([2, 3, 2])
        let p = vector([1, 1, 1])
        let out = try run("BatchNormalization", opset: 15, ["training_mode": .int(1)],
                          [x, p, vector([0, 0, 0]), vector([0, 0, 0]), p])
        XCTAssertEqual(out.map(\.shape), [[2, 3, 2], [3], [3]])
    }

    func testBatchNormalizationRefusesBadInputs() {
        let p = vector([1, 1])
        XCTAssertThrowsError(try run("BatchNormalization", opset: 15, [:], [ramp([1, 3, 2]), p, p, p, p]))
        XCTAssertThrowsError(try run("BatchNormalization", opset: 15, [:], [ramp([2]), p, p, p, p]))
        XCTAssertThrowsError(try run("BatchNormalization", opset: 15, [:], [ramp([1, 2]), p, p, p]))
        let ints = HostTensor(dtype: .int32, shape: [1, 2], storage: .int([1, 2]))
        XCTAssertThrowsError(try run("BatchNormalization", opset: 15, [:], [ints, p, p, p, p]))
    }

    func testInstanceNormalizationOfAConstantIsTheBias() throws {
        let x = HostTensor(shape: [1, 2, 3], floats: Array(repeating: 4, count: 6))
        let y = try run("InstanceNormalization", opset: 6, [:], [x, vector([2, 2]), vector([5, -1])])[0]
        XCTAssertEqual(y.floats, [5, 5, 5, -1, -1, -1])
        XCTAssertThrowsError(try run("InstanceNormalization", opset: 6, [:], [x, vector([1]), vector([1])]))
    }

    func testLayerNormalizationStatisticsShapes() throws {
        let x = ramp([2, 3, 4])
        let out = try run("LayerNormalization", opset: 17, ["axis": .int(1)], [x, ramp([3, 4])])
        XCTAssertEqual(out.map(\.shape), [[2, 3, 4], [2, 1, 1], [2, 1, 1]])
        XCTAssertEqual(out[1].dtype, .float32)
        XCTAssertThrowsError(try run("LayerNormalization", opset: 17, [:], [x, ramp([3])]))
        XCTAssertThrowsError(try run("LayerNormalization", opset: 17, ["axis": .int(3)], [x, ramp([4])]))
        XCTAssertThrowsError(try run("LayerNormalization", opset: 17, ["stash_type": .int(7)], [x, ramp([4])]))
    }

    func testGroupNormalizationNeedsDividingGroups() throws {
        let x = ramp([1, 4, 2])
        XCTAssertEqual(try run("GroupNormalization", opset: 18, ["num_groups": .int(2)], [x, vector([1, 1]), vector([0, 0])])[0].shape, [1, 4, 2])
        XCTAssertThrowsError(try run("GroupNormalization", opset: 18, ["num_groups": .int(3)], [x, vector([1, 1, 1]), vector([0, 0, 0])]))
        XCTAssertThrowsError(try run("GroupNormalization", opset: 21, ["num_groups": .int(2)], [x, vector([1, 1]), vector([0, 0])]))
        XCTAssertThrowsError(try run("GroupNormalization", opset: 18, [:], [x, vector([1, 1]), vector([0, 0])]))
    }

    func testLRNNeedsAPositiveSize() throws {
        let x = ramp([1, 3, 2, 2])
        XCTAssertEqual(try run("LRN", opset: 13, ["size": .int(3)], [x])[0].shape, [1, 3, 2, 2])
        XCTAssertThrowsError(try run("LRN", opset: 13, [:], [x]))
        XCTAssertThrowsError(try run("LRN", opset: 13, ["size": .int(0)], [x]))
    }

    func testMeanVarianceNormalizationShape() throws {
        XCTAssertEqual(try run("MeanVarianceNormalization", opset: 13, [:], [ramp([1, 2, 2, 2])])[0].shape, [1, 2, 2, 2])
        XCTAssertThrowsError(try run("MeanVarianceNormalization", opset: 13, [:], [ramp([2, 2])]))
    }
}
