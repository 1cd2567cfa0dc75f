@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvVerify
@testable import BNConvPipeline
@testable import BNConvTestSupport
import XCTest

/// Non-finite or degenerate numbers: a clear refusal with a named reason, never NaN written into a
/// folded model, and verification never passing on NaN outputs.
final class NumericHazardTests: XCTestCase {
    private typealias M = FoldTestModels

    /// `dense -> bn` with the given dense weights and BN weights edited by `edit`.
    private func model(kernel: [Double]? = nil, edit: (inout [Weight]) -> Void = { _ in }) -> Model {
        var rng = M.Random(state: 7)
        var k = M.weight(.kernel, [3, 4], .io, &rng)
        if let kernel { k.tensor = Tensor(shape: [3, 4], doubles: kernel, dtype: .float32) }
        let bias = M.weight(.bias, [4], .vector, &rng)
        let dense = Node(name: "dense", op: .dense(Dense(units: 4)), inputs: ["input"], outputs: ["p"], weights: [k, bias])
        var bn = M.bnWeights(4, &rng)
        edit(&bn)
        return M.chain(producer: dense, bnWeights: bn, rank: 2)
    }

    private func set(_ role: WeightRole, channel: Int, to value: Double, in weights: inout [Weight]) {
        let i = weights.firstIndex { $0.role == role }!
        var v = weights[i].tensor.doubles()
        v[channel] = value
        weights[i].tensor = Tensor(shape: weights[i].tensor.shape, doubles: v, dtype: weights[i].tensor.dtype)
    }

    private func assertKept(_ model: Model, because words: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try FoldBatchNorm().apply(to: model)
        XCTAssertEqual(result.decisions.count, 1, file: file, line: line)
        XCTAssertNil(result.decisions.first?.target, file: file, line: line)
        let reason = result.decisions.first?.reason ?? ""
        XCTAssertTrue(reason.contains(words), "reason: \(reason)", file: file, line: line)
        XCTAssertNotNil(result.model.node(named: "bn"), file: file, line: line)
        assertAllFinite(result.model, file: file, line: line)
    }

    private func assertAllFinite(_ model: Model, file: StaticString = #filePath, line: UInt = #line) {
        for node in model.nodes {
            for w in node.weights where w.isModified {
                XCTAssertTrue(w.tensor.doubles().allSatisfy(\.isFinite), "\(node.name)/\(w.role)", file: file, line: line)
            }
        }
    }

    func testNaNInStatisticsIsRefused() throws {
        try assertKept(model { set(.movingMean, channel: 2, to: .nan, in: &$0) }, because: "NaN or infinite")
        try assertKept(model { set(.movingVariance, channel: 0, to: .infinity, in: &$0) }, because: "NaN or infinite")
        try assertKept(model { set(.beta, channel: 1, to: -.infinity, in: &$0) }, because: "NaN or infinite")
    }

    func testNegativeVarianceIsRefused() throws {
        try assertKept(model { set(.movingVariance, channel: 3, to: -1, in: &$0) }, because: "variance")
    }

    func testNaNInTheLayerKernelIsRefused() throws {
        var values = Array(repeating: 0.5, count: 12)
        values[5] = .nan
        try assertKept(model(kernel: values), because: "dense's kernel holds NaN or infinite values (first at element 5)")
        values[5] = .infinity
        try assertKept(model(kernel: values), because: "NaN or infinite")
    }

    func testZeroGammaFoldsToAConstantChannel() throws {
        // gamma = 0 is legitimate (a pruned channel): the channel's output becomes beta, exactly as
        // the BN computes it, so it folds; the folded kernel column is zero and every value finite.
        let m = model { set(.gamma, channel: 1, to: 0, in: &$0) }
        let result = try FoldBatchNorm().apply(to: m)
        XCTAssertEqual(result.decisions.first?.target, "dense")
        let kernel = try XCTUnwrap(result.model.node(named: "dense")?.weight(.kernel)).tensor.doubles()
        XCTAssertEqual((0..<3).map { kernel[$0 * 4 + 1] }, [0, 0, 0])
        assertAllFinite(result.model)
    }

    func testStatisticsOfTheWrongLengthAreRefused() throws {
        let m = model { weights in
            let i = weights.firstIndex { $0.role == .movingMean }!
            weights[i].tensor = Tensor(shape: [3], doubles: [0, 0, 0], dtype: .float32)
        }
        let result = try FoldBatchNorm().apply(to: m)
        XCTAssertNil(result.decisions.first?.target)
        XCTAssertFalse((result.decisions.first?.reason ?? "").isEmpty)
    }

    func testVerificationFailsWhenOutputsAreNaN() throws {
        let reference = Tensor(shape: [2], doubles: [1, 2], dtype: .float32)
        let nan = Tensor(shape: [2], doubles: [1, .nan], dtype: .float32)
        let stats = try ErrorStatistics(reference: reference, candidate: nan)
        XCTAssertEqual(stats.maxRel, .infinity)
        // Both NaN in the same place is no agreement either.
        let both = try ErrorStatistics(reference: nan, candidate: nan)
        XCTAssertEqual(both.maxRel, .infinity)
        XCTAssertFalse(both.maxRel <= 1e-3)
    }
}
