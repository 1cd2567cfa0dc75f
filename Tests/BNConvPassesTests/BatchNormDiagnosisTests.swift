import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvTestSupport

/// Each warning of ``BatchNormDiagnosis`` on hand-built models, and the cases that must not warn:
/// a fresh layer, a tiny positive variance, a float16 fold within range, healthy random statistics.
final class BatchNormDiagnosisTests: XCTestCase {
    typealias M = FoldTestModels

    /// `input -> dense (float32, 4 units) -> bn` with the BN's four vectors given (nil: left out).
    private func model(gamma: [Double]?, beta: [Double]?, mean: [Double], variance: [Double],
                       bn: BatchNorm = BatchNorm(epsilon: 1e-3, axis: -1), format: CheckpointFormat = .keras2H5) -> Model {
        var rng = M.Random(state: 11)
        let n = mean.count
        let dense = Node(name: "dense", op: .dense(Dense(units: n)), inputs: ["input"], outputs: ["p"],
                         weights: [M.weight(.kernel, [3, n], .io, &rng)])
        func vector(_ role: WeightRole, _ values: [Double]) -> Weight {
            Weight(role: role, tensor: Tensor(shape: [values.count], doubles: values, dtype: .float32), storageKey: role.rawValue)
        }
        var weights: [Weight] = []
        if let gamma { weights.append(vector(.gamma, gamma)) }
        if let beta { weights.append(vector(.beta, beta)) }
        weights += [vector(.movingMean, mean), vector(.movingVariance, variance)]
        var m = M.chain(producer: dense, bn: bn, bnWeights: weights, rank: 2)
        m.format = format
        return m
    }

    private func warnings(_ model: Model) -> [BatchNormWarning] { BatchNormDiagnosis(model: model).warnings() }

    // MARK: stale-moving-statistics

    func testStaleMovingStatisticsWhenGammaAndBetaTrained() throws {
        let found = warnings(model(gamma: [0.9, 1.2, -0.7, 1], beta: [0.1, 0, -0.3, 0.05],
                                   mean: [0, 0, 0, 0], variance: [1, 1, 1, 1]))
        XCTAssertEqual(found.map(\.code), [.staleMovingStatistics])
        let message = found[0].message
        XCTAssertEqual(found[0].batchNorm, "bn")
        XCTAssertTrue(message.hasPrefix("bn's moving_mean is 0 and moving_variance 1 in all 4 channels"), message)
        XCTAssertTrue(message.contains("gamma (-0.7 to 1.2) and beta (-0.3 to 0.1) were trained"), message)
        XCTAssertTrue(message.contains("updates never ran"), message)
        XCTAssertTrue(message.contains("bnconv recalibrate"), message)
    }

    /// Only the vectors the BN applies count: with `scale` off, a moved beta alone is enough, and
    /// a stored gamma the BN ignores is not looked at.
    func testStaleMovingStatisticsFromBetaAlone() throws {
        let found = warnings(model(gamma: nil, beta: [0.2, -0.1], mean: [0, 0], variance: [1, 1],
                                   bn: BatchNorm(epsilon: 1e-3, axis: -1, scale: false)))
        XCTAssertEqual(found.map(\.code), [.staleMovingStatistics])
        XCTAssertTrue(found[0].message.contains("while its beta (-0.1 to 0.2) was trained"), found[0].message)
    }

    /// A BN still all at its initial values (gamma 1, beta 0, mean 0, variance 1) is a fresh layer,
    /// not a stale one: no warning. Nor for a BN that applies neither gamma nor beta.
    func testFreshLayerGetsNoWarning() throws {
        XCTAssertEqual(warnings(model(gamma: [1, 1, 1], beta: [0, 0, 0], mean: [0, 0, 0], variance: [1, 1, 1])), [])
        XCTAssertEqual(warnings(model(gamma: [3, 3], beta: [1, 1], mean: [0, 0], variance: [1, 1],
                                      bn: BatchNorm(epsilon: 1e-3, axis: -1, center: false, scale: false))), [])
    }

    /// Statistics that moved at all (one channel off 0 or 1) are not stale.
    func testMovedStatisticsAreNotStale() throws {
        XCTAssertEqual(warnings(model(gamma: [0.9, 1.1], beta: [0.1, 0], mean: [0, 1e-7], variance: [1, 1])), [])
        XCTAssertEqual(warnings(model(gamma: [0.9, 1.1], beta: [0.1, 0], mean: [0, 0], variance: [1, 0.999])), [])
    }

    // MARK: Variance

    func testZeroVarianceSaysTheOutputStaysFinite() throws {
        let found = warnings(model(gamma: [1, 2, 1, 0.5], beta: [0, 0, 0, 0], mean: [0.1, 0, 0.2, 0], variance: [0.5, 0, 1, 0]))
        XCTAssertEqual(found.map(\.code), [.zeroVariance])
        let message = found[0].message
        XCTAssertTrue(message.contains("exactly 0 in 2 of 4 channels (first: channel 1)"), message)
        XCTAssertTrue(message.contains("dead channel"), message)
        XCTAssertTrue(message.contains("stays finite"), message)
        // |gamma| / sqrt(epsilon) over the zero channels: 2 / sqrt(0.001) = 63.25.
        XCTAssertTrue(message.contains("up to 63.25"), message)
    }

    func testZeroVarianceWithoutEpsilonDividesByZero() throws {
        let found = warnings(model(gamma: [1, 1], beta: [0, 0], mean: [0.1, 0.2], variance: [0, 0],
                                   bn: BatchNorm(epsilon: 0, axis: -1)))
        XCTAssertEqual(found.map(\.code), [.zeroVariance])
        XCTAssertTrue(found[0].message.contains("in all 2 channels"), found[0].message)
        XCTAssertTrue(found[0].message.contains("divides by zero"), found[0].message)
    }

    /// A tiny but positive variance is a legitimate statistic: no warning.
    func testTinyPositiveVarianceGetsNoWarning() throws {
        XCTAssertEqual(warnings(model(gamma: [1, 0.5], beta: [0.1, 0], mean: [0.3, -0.2], variance: [1e-12, Double(Float.leastNonzeroMagnitude)])), [])
    }

    func testNegativeVarianceAboveMinusEpsilonIsFiniteButDamaged() throws {
        let found = warnings(model(gamma: [1, 1, 1], beta: [0, 0, 0], mean: [0.1, 0.2, 0.3], variance: [1, -1e-4, 0.5]))
        XCTAssertEqual(found.map(\.code), [.negativeVariance])
        let message = found[0].message
        XCTAssertTrue(message.contains("negative in 1 of 3 channels (first: channel 1, lowest -0.0001)"), message)
        XCTAssertTrue(message.contains("stays positive"), message)
        XCTAssertFalse(message.contains("NaN"), message)
    }

    func testNegativeVarianceBelowMinusEpsilonGivesNaN() throws {
        let found = warnings(model(gamma: [1, 1, 1], beta: [0, 0, 0], mean: [0.1, 0.2, 0.3], variance: [-0.5, -1e-4, 0.5]))
        XCTAssertEqual(found.map(\.code), [.negativeVariance])
        let message = found[0].message
        XCTAssertTrue(message.contains("negative in 2 of 3 channels (first: channel 0, lowest -0.5)"), message)
        XCTAssertTrue(message.contains("In 1 of them variance + epsilon (0.001) is not positive"), message)
        XCTAssertTrue(message.contains("NaN"), message)
    }

    // MARK: non-finite-statistics

    func testNonFiniteStatisticsNameEveryRole() throws {
        let found = warnings(model(gamma: [.infinity, 1, 1, 1], beta: [0, 0, 0, 0],
                                   mean: [0, .nan, .nan, 0.1], variance: [1, 1, 0.5, 2]))
        XCTAssertEqual(found.map(\.code), [.nonFiniteStatistics])
        let message = found[0].message
        XCTAssertTrue(message.contains("gamma in 1 of 4 channels (first: channel 0, inf)"), message)
        XCTAssertTrue(message.contains("moving_mean in 2 of 4 channels (first: channel 1, nan)"), message)
        XCTAssertFalse(message.contains("moving_variance"), message)
    }

    // MARK: batch-statistics

    func testBatchStatisticsInATrainingModeBatchNorm() throws {
        let graph = model(gamma: [1.1, 0.9], beta: [0.1, 0], mean: [0.2, 0.1], variance: [0.5, 2],
                          bn: BatchNorm(epsilon: 1e-3, axis: -1, training: true), format: .graphDef)
        let found = warnings(graph)
        XCTAssertEqual(found.map(\.code), [.batchStatistics])
        XCTAssertTrue(found[0].message.contains("is_training is true"), found[0].message)
        XCTAssertTrue(found[0].message.contains("--assume-inference"), found[0].message)
        XCTAssertEqual(planBatchNormFolds(graph).first?.folds, false, "the planner refuses it too")
        // Switched to inference (what --assume-inference does), it warns no more.
        XCTAssertEqual(warnings(AssumeInference.apply(to: graph).model), [])
        // Read by no model output (the training branch of a tf.cond whose `training` defaults to
        // false), it never runs: no warning either.
        var untaken = graph
        untaken.nodes.append(Node(name: "out", op: .identity, inputs: ["input"], outputs: ["out"]))
        untaken.outputs = ["out"]
        XCTAssertEqual(warnings(untaken), [])
    }

    // MARK: float16-overflow

    /// The float16 dense of FoldBatchNormTests: channel 3's gamma of 1000 takes kernel values of
    /// 100-200 to 100000-200000, beyond 65504; with that channel at 1 every folded value fits.
    func testFloat16OverflowNamesTheTargetAndTheNumbers() throws {
        var rng = M.Random(state: 7)
        let kernel = M.weight(.kernel, [3, 4], .io, &rng, lo: 100, hi: 200, dtype: .float16)
        let dense = Node(name: "dense", op: .dense(Dense(units: 4)), inputs: ["input"], outputs: ["p"], weights: [kernel])
        var bnW = M.bnWeights(4, &rng)
        bnW[0].tensor = Tensor(shape: [4], doubles: [1, 1, 300, 1000], dtype: .float32)
        bnW[1].tensor = Tensor(shape: [4], doubles: [0, 0, 0, 0], dtype: .float32)
        bnW[3].tensor = Tensor(shape: [4], doubles: [1, 1, 1, 1], dtype: .float32)
        let found = warnings(M.chain(producer: dense, bnWeights: bnW, rank: 2))
        XCTAssertEqual(found.map(\.code), [.float16Overflow])
        let message = found[0].message
        XCTAssertTrue(message.hasPrefix("folding bn into dense would write values beyond float16's largest value (65504): dense's kernel up to "), message)
        XCTAssertTrue(message.contains(", 3 values in 1 of 4 channels; written as float16 they would be infinity"), message)
        XCTAssertTrue(message.contains("reaches 1000 at channel 3"), message)

        bnW[0].tensor = Tensor(shape: [4], doubles: [1, 1, 300, 1], dtype: .float32)
        XCTAssertEqual(warnings(M.chain(producer: dense, bnWeights: bnW, rank: 2)), [], "within float16's range")
    }

    /// A folded bias (b * s + beta - mean * s) beyond float16's range warns too, and a float32
    /// layer with the same numbers does not (its values fit).
    func testFloat16OverflowOfTheFoldedBias() throws {
        for (dtype, warns) in [(DType.float16, true), (.float32, false)] {
            let kernel = Weight(role: .kernel, tensor: Tensor(shape: [2, 2], doubles: [0.5, 0.5, 0.5, 0.5], dtype: dtype), layout: .io, storageKey: "k")
            let bias = Weight(role: .bias, tensor: Tensor(shape: [2], doubles: [600, 1], dtype: dtype), layout: .vector, storageKey: "b")
            let dense = Node(name: "dense", op: .dense(Dense(units: 2)), inputs: ["input"], outputs: ["p"], weights: [kernel, bias])
            func vector(_ role: WeightRole, _ values: [Double]) -> Weight {
                Weight(role: role, tensor: Tensor(shape: [2], doubles: values, dtype: .float32), storageKey: role.rawValue)
            }
            let bnW = [vector(.gamma, [200, 1]), vector(.beta, [0, 0]), vector(.movingMean, [0.5, 0]), vector(.movingVariance, [1, 1])]
            let found = warnings(M.chain(producer: dense, bn: BatchNorm(epsilon: 0, axis: -1), bnWeights: bnW, rank: 2))
            if warns {
                XCTAssertEqual(found.map(\.code), [.float16Overflow], "\(dtype)")
                XCTAssertTrue(found.first?.message.contains("dense's bias 1.199e+05 at element 0; written as float16 it would be infinity") ?? false, found.first?.message ?? "")
            } else {
                XCTAssertEqual(found, [], "\(dtype)")
            }
        }
    }

    /// A BN before a float16 dense folds into its input channels; beyond range there, the warning
    /// names the next layer and the planner no longer folds it into it.
    func testFloat16OverflowFoldingIntoTheNextLayer() throws {
        let input = Node(name: "input", op: .input, inputs: [], outputs: ["input"])
        func vector(_ role: WeightRole, _ values: [Double]) -> Weight {
            Weight(role: role, tensor: Tensor(shape: [2], doubles: values, dtype: .float32), storageKey: role.rawValue)
        }
        let kernel = Weight(role: .kernel, tensor: Tensor(shape: [2, 3], doubles: [100, 1, 1, 1, 1, 1], dtype: .float16), layout: .io, storageKey: "k")
        func model(gamma: Double) -> Model {
            let bn = Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: -1)), inputs: ["input"], outputs: ["bn"],
                          weights: [vector(.gamma, [gamma, 1]), vector(.beta, [0, 0]), vector(.movingMean, [0, 0.1]), vector(.movingVariance, [0.5, 1])])
            let dense = Node(name: "head", op: .dense(Dense(units: 3)), inputs: ["bn"], outputs: ["y"], weights: [kernel])
            var values: [String: ValueInfo] = [:]
            for v in ["input", "bn", "y"] { values[v] = ValueInfo(name: v, shape: [nil, 2], layout: .channelsLast) }
            return Model(name: "t", format: .onnx, inputs: ["input"], outputs: ["y"], nodes: [input, bn, dense], values: values)
        }
        let overflowing = model(gamma: 1000)
        let found = warnings(overflowing)
        XCTAssertEqual(found.map(\.code), [.float16Overflow])
        XCTAssertTrue(found[0].message.hasPrefix("folding bn into the next layer head would write values beyond float16's largest value (65504): head's kernel"), found[0].message)
        let decision = try XCTUnwrap(planBatchNormFolds(overflowing).first)
        XCTAssertFalse(decision.folds)
        XCTAssertTrue(decision.reason?.contains("folding into head after it would make its kernel") ?? false, decision.reason ?? "")

        let fits = model(gamma: 2)
        XCTAssertEqual(warnings(fits), [])
        XCTAssertEqual(planBatchNormFolds(fits).first?.target, "head")
    }

    /// bfloat16 holds float32's range: only a folded value beyond about 3.39e38 overflows it.
    func testBFloat16Overflow() throws {
        for (gamma, warns) in [(1e10, true), (1e5, false)] {
            let kernel = Weight(role: .kernel, tensor: Tensor(shape: [1, 2], doubles: [1e30, 1], dtype: .bfloat16), layout: .io, storageKey: "k")
            let dense = Node(name: "dense", op: .dense(Dense(units: 2, useBias: false)), inputs: ["input"], outputs: ["p"], weights: [kernel])
            func vector(_ role: WeightRole, _ values: [Double]) -> Weight {
                Weight(role: role, tensor: Tensor(shape: [2], doubles: values, dtype: .float32), storageKey: role.rawValue)
            }
            let bnW = [vector(.gamma, [gamma, 1]), vector(.beta, [0, 0]), vector(.movingMean, [0, 0.1]), vector(.movingVariance, [1, 2])]
            let found = warnings(M.chain(producer: dense, bn: BatchNorm(epsilon: 0, axis: -1), bnWeights: bnW, rank: 2))
            XCTAssertEqual(found.map(\.code), warns ? [.float16Overflow] : [], "gamma \(gamma)")
            if warns { XCTAssertTrue(found[0].message.contains("beyond bfloat16's largest value (3.38953e+38)"), found[0].message) }
        }
    }

    // MARK: Healthy models

    /// Random trained-looking statistics (FoldTestModels: gamma 0.5-1.5, beta and mean +-0.5,
    /// variance 0.5-2) on float32 and float16 layers: nothing to say.
    func testHealthyStatisticsGetNoWarning() throws {
        for (seed, dtype) in [(1, DType.float32), (2, .float16), (3, .bfloat16)] {
            var rng = M.Random(state: UInt64(seed))
            let kernel = M.weight(.kernel, [3, 3, 2, 8], .hwio, &rng, dtype: dtype)
            let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 8, kernelSize: [3, 3], useBias: false)),
                            inputs: ["input"], outputs: ["p"], weights: [kernel])
            let model = M.chain(producer: conv, bnWeights: M.bnWeights(8, &rng), rank: 4)
            XCTAssertEqual(warnings(model), [], "\(dtype)")
        }
    }

    /// Every code is a stable, documented string.
    func testCodes() {
        XCTAssertEqual(BatchNormWarning.Code.allCases.map(\.rawValue),
                       ["stale-moving-statistics", "zero-variance", "negative-variance", "non-finite-statistics",
                        "float16-overflow", "batch-statistics"])
    }
}
