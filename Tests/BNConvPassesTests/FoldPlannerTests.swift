import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvTestSupport

/// ``FoldPlanner`` on a model holding a branch no output depends on (what a `.pb` reader makes of
/// the untaken branch of a constant `tf.cond`).
final class FoldPlannerTests: XCTestCase {
    typealias M = FoldTestModels

    /// `input -> conv -> bn` (the output) beside `input -> conv2 -> bn2 -> relu2` (read by no output):
    /// bn folds; bn2, which could fold as well, is kept because it never runs, the reason naming
    /// where its branch starts; the fold leaves the branch as it is.
    func testABatchNormNoOutputNeedsIsKeptWithItsBranch() throws {
        var rng = M.Random(state: 5)
        let conv = Convolution(rank: 2, filters: 3, kernelSize: [1, 1], layout: .channelsLast)
        let producer = Node(name: "conv", op: .conv(conv), inputs: ["input"], outputs: ["p"],
                            weights: [M.weight(.kernel, [1, 1, 2, 3], .hwio, &rng)])
        let branch = [
            Node(name: "conv2", op: .conv(conv), inputs: ["input"], outputs: ["q"], weights: [M.weight(.kernel, [1, 1, 2, 3], .hwio, &rng)]),
            Node(name: "bn2", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: -1)), inputs: ["q"], outputs: ["bn2"], weights: M.bnWeights(3, &rng)),
            Node(name: "relu2", op: .activation(.relu()), inputs: ["bn2"], outputs: ["r2"]),
        ]
        let model = M.chain(producer: producer, bnWeights: M.bnWeights(3, &rng), rank: 4, extraNodes: branch)
        let decisions = planBatchNormFolds(model)
        XCTAssertEqual(decisions.map(\.batchNorm), ["bn", "bn2"])
        XCTAssertEqual(decisions[0].target, "conv")
        XCTAssertNil(decisions[1].target)
        XCTAssertEqual(decisions[1].reason, "it never runs: no model output depends on it (it is in the branch that starts at conv2, which no output reads)")
        // Read by an output, it folds like the other.
        var needed = model
        needed.outputs.append("r2")
        XCTAssertEqual(planBatchNormFolds(needed).map(\.target), ["conv", "conv2"])
        let folded = try FoldBatchNorm().apply(to: model).model
        XCTAssertEqual(folded.nodes.map(\.name), ["input", "conv", "conv2", "bn2", "relu2"])
    }
}
