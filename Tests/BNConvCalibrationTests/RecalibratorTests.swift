@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvCalibration
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

final class RecalibratorTests: XCTestCase {
    /// Momentum mode on batches of 4 stores what Keras stored after `model(batch, training=True)`
    /// on the same batches (tf_keras: unbiased variance on 4-D input; Keras 3: biased).
    func testMomentumModeMatchesWhatKerasStores() throws {
        for name in RecalibrationFixture.cases {
            for flavour in ["keras2", "keras3"] {
                let fixture = RecalibrationFixture(name: name, flavour: flavour)
                let model = try fixture.model()
                let recalibrator = Recalibrator(mode: .momentum, batchSize: 4, convention: .of(model))
                let result = try recalibrator.apply(to: model, data: try fixture.data())
                XCTAssertEqual(result.passes, 1)
                assertBatchNormStatistics(result.model, try fixture.momentumReference(), tolerance: 1e-5, "\(name) \(flavour)")
            }
        }
    }

    /// Using the other framework's variance convention on 4-D input misses Keras's numbers: the
    /// convention matters and the test can fail.
    func testMomentumModeWithTheWrongConventionDiffers() throws {
        let fixture = RecalibrationFixture(name: "conv2d_bias_bn", flavour: "keras2")
        let model = try fixture.model()
        let result = try Recalibrator(mode: .momentum, batchSize: 4, convention: .keras3).apply(to: model, data: try fixture.data())
        let reference = try fixture.momentumReference()
        let node = try XCTUnwrap(result.model.batchNormIndices.first.map { result.model.nodes[$0] })
        let variance = try XCTUnwrap(node.weight(.movingVariance)).tensor.doubles()
        XCTAssertGreaterThan(relativeError(variance, try XCTUnwrap(reference[node.name]).variance), 1e-5)
    }

    /// Cumulative mode gives numpy's float64 population statistics of each BN's input with the BNs
    /// before it recalibrated ("sequential"), whatever the batch size.
    func testCumulativeModeMatchesPopulationStatisticsForAnyBatchSize() throws {
        for name in RecalibrationFixture.cases {
            for flavour in ["keras2", "keras3"] {
                let fixture = RecalibrationFixture(name: name, flavour: flavour)
                let model = try fixture.model()
                let reference = try fixture.cumulativeReference("sequential")
                for batchSize in [1, 3, 16] {
                    let result = try Recalibrator(mode: .cumulative, batchSize: batchSize, convention: .of(model))
                        .apply(to: model, data: try fixture.data())
                    XCTAssertEqual(result.samplesRun, result.passes * 16)
                    assertBatchNormStatistics(result.model, reference, tolerance: 1e-6, "\(name) \(flavour) batch \(batchSize)")
                }
            }
        }
    }

    /// Cumulative mode equals one training-mode forward over the whole set as a single batch with
    /// Keras 3's biased variance and momentum 0 (the batch statistics of the full set).
    func testCumulativeModeEqualsOneFullBatchTrainingForward() throws {
        let fixture = RecalibrationFixture(name: "mini_resnet", flavour: "keras3")
        var model = try fixture.model()
        let cumulative = try Recalibrator(mode: .cumulative, batchSize: 5, convention: .keras3).apply(to: model, data: try fixture.data())
        for index in model.batchNormIndices {
            guard case .batchNorm(var b) = model.nodes[index].op else { continue }
            b.momentum = 0
            model.nodes[index].op = .batchNorm(b)
        }
        let full = try Recalibrator(mode: .momentum, batchSize: 16, convention: .keras3).apply(to: model, data: try fixture.data())
        for index in model.batchNormIndices {
            for role in [WeightRole.movingMean, .movingVariance] {
                let a = try XCTUnwrap(cumulative.model.nodes[index].weight(role)).tensor.doubles()
                let b = try XCTUnwrap(full.model.nodes[index].weight(role)).tensor.doubles()
                XCTAssertLessThanOrEqual(relativeError(a, b), 1e-5, "\(model.nodes[index].name) \(role)")
            }
        }
    }

    /// Keeping values between passes (each pass runs only its new nodes) gives what rerunning the
    /// model from its inputs on every pass gives.
    func testCumulativeCacheChangesNothing() throws {
        for name in RecalibrationFixture.cases {
            let fixture = RecalibrationFixture(name: name, flavour: "keras3")
            let model = try fixture.model()
            let cached = try Recalibrator(mode: .cumulative, batchSize: 3, convention: .keras3).apply(to: model, data: try fixture.data())
            let rerun = try Recalibrator(mode: .cumulative, batchSize: 3, convention: .keras3, cacheBytes: 0).apply(to: model, data: try fixture.data())
            for index in model.batchNormIndices {
                for role in [WeightRole.movingMean, .movingVariance] {
                    XCTAssertEqual(cached.model.nodes[index].weight(role)?.tensor, rerun.model.nodes[index].weight(role)?.tensor,
                                   "\(name) \(model.nodes[index].name) \(role)")
                }
            }
        }
    }

    /// Only the moving mean and variance change, and they are marked modified; the drift report
    /// names every BN and is zero for none of the stale fixtures.
    func testOnlyMovingStatisticsChange() throws {
        let fixture = RecalibrationFixture(name: "mini_resnet", flavour: "keras2")
        let model = try fixture.model()
        let result = try Recalibrator(mode: .cumulative, batchSize: 8, convention: .tfKeras).apply(to: model, data: try fixture.data())
        XCTAssertEqual(result.model.nodes.count, model.nodes.count)
        for (before, after) in zip(model.nodes, result.model.nodes) {
            XCTAssertEqual(before.weights.count, after.weights.count)
            for (w0, w1) in zip(before.weights, after.weights) {
                let moving = w0.role == .movingMean || w0.role == .movingVariance
                XCTAssertEqual(w1.isModified, moving, "\(before.name) \(w0.role)")
                XCTAssertEqual(w1.tensor.shape, w0.tensor.shape)
                XCTAssertEqual(w1.tensor.dtype, w0.tensor.dtype)
                if !moving { XCTAssertEqual(w1.tensor, w0.tensor) }
            }
        }
        XCTAssertEqual(result.drift.map(\.node), model.batchNormIndices.map { model.nodes[$0].name })
        XCTAssertTrue(result.drift.allSatisfy { $0.meanMaxChange > 0 && $0.varianceMaxChange > 0 })
    }

    /// BN depths: one more than the deepest BN upstream; one pass per depth.
    func testDepthsFollowTheBatchNormChain() throws {
        let model = try RecalibrationFixture(name: "mini_resnet", flavour: "keras2").model()
        let depths = Recalibrator.depths(of: model)
        XCTAssertEqual(depths.count, model.batchNormIndices.count)
        for index in model.batchNormIndices {
            let node = model.nodes[index]
            var upstream = 0
            var frontier = [node.inputs[0]]
            var seen = Set<String>()
            while let value = frontier.popLast() {
                guard seen.insert(value).inserted, let p = model.producerIndex(of: value) else { continue }
                if case .batchNorm = model.nodes[p].op { upstream = max(upstream, depths[model.nodes[p].name]!) }
                frontier += model.nodes[p].inputs
            }
            XCTAssertEqual(depths[node.name], upstream + 1, node.name)
        }
    }

    /// Moving statistics stored once for several nodes cannot fit each node: refused, naming the BN.
    func testRefusesSharedStatistics() throws {
        let fixture = RecalibrationFixture(name: "dense_bn", flavour: "keras2")
        var model = try fixture.model()
        let index = try XCTUnwrap(model.batchNormIndices.first)
        var weight = try XCTUnwrap(model.nodes[index].weight(.movingMean))
        weight.isShared = true
        model.nodes[index].setWeight(weight)
        XCTAssertThrowsError(try Recalibrator(mode: .cumulative, batchSize: 4, convention: .tfKeras).apply(to: model, data: try fixture.data())) {
            XCTAssertEqual($0 as? CalibrationError, .sharedStatistics(node: model.nodes[index].name))
        }
    }

    /// A tf.layers BN on a `training` flag (a tf.cond read from a `.pb` as it is): its inference
    /// node (which runs) and its training node (the untaken branch, which normalizes by batch
    /// statistics) read the same moving-statistics Consts. Cumulative mode measures the inference
    /// node's input and stores the result in both: TensorFlow's own measurement (each BN's input on
    /// calibration.npy with the BNs before it recalibrated, recorded by make_cond_fixtures.py), and
    /// run on input.npy the model answers as TensorFlow does with those statistics.
    func testRecalibratesATfCondOnATrainingFlagAsTensorFlowMeasures() throws {
        let model = try Checkpoint.read(TensorFlowFixtures.graph("cond_training_flag"))
        let data = try CalibrationSet(inputs: [try NumPyFile.read(TensorFlowCondFixtures.path("cond_training_flag", "calibration.npy"))])
        let result = try Recalibrator(mode: .cumulative, batchSize: 5, convention: .tfKeras).apply(to: model, data: data)
        let expected = try TensorFlowCondFixtures.recalibratedStatistics(of: model)
        XCTAssertEqual(expected.count, 6)
        assertBatchNormStatistics(result.model, expected, tolerance: 1e-5, "cond_training_flag")
        XCTAssertEqual(result.drift.count, 6)
        XCTAssertTrue(result.drift.allSatisfy { $0.meanMaxChange > 0 }, "\(result.drift)")
        let input = try NumPyFile.read(TensorFlowCondFixtures.path("cond_training_flag", "input.npy"))
        let output = try ModelRunner(model: result.model).run([input])[0]
        let reference = try NumPyFile.read(TensorFlowCondFixtures.path("cond_training_flag", "recalibrated_output.npy"))
        XCTAssertLessThanOrEqual(relativeError(output.floats(), reference.floats()), 1e-5)
        XCTAssertGreaterThan(relativeError(try ModelRunner(model: model).run([input])[0].floats(), reference.floats()), 1e-2,
                             "the statistics as stored answer otherwise")
    }

    /// Momentum mode on the same graph: the two nodes of each tf.cond end with the same statistics
    /// (the inference node's moving average), moved from the stored ones.
    func testMomentumModeGivesBothNodesOfATfCondTheRunningNodesStatistics() throws {
        let model = try Checkpoint.read(TensorFlowFixtures.graph("cond_training_flag"))
        let data = try CalibrationSet(inputs: [try NumPyFile.read(TensorFlowCondFixtures.path("cond_training_flag", "calibration.npy"))])
        let result = try Recalibrator(mode: .momentum, batchSize: 4, convention: .tfKeras).apply(to: model, data: data)
        for scope in ["bn1", "bn2"] {
            let training = try XCTUnwrap(result.model.node(named: "\(scope)/cond/FusedBatchNormV3"))
            let inference = try XCTUnwrap(result.model.node(named: "\(scope)/cond/FusedBatchNormV3_1"))
            for role in [WeightRole.movingMean, .movingVariance] {
                XCTAssertEqual(training.weight(role)?.tensor, inference.weight(role)?.tensor, "\(scope) \(role)")
                XCTAssertNotEqual(inference.weight(role)?.tensor, model.node(named: inference.name)?.weight(role)?.tensor, "\(scope) \(role)")
            }
        }
    }

    /// A tf.cond on a flag whose two branches run one inference-mode BN's variables on different
    /// convs: the statistics would fit one branch only, and which runs is fed at run time: refused,
    /// naming the BN of the branch not taken and the one that runs.
    func testRefusesStatisticsReadByTwoBranchesOfATfCond() throws {
        let model = try Checkpoint.read(TensorFlowFixtures.graph(TensorFlowCondFixtures.sharedBatchNorm))
        let data = try CalibrationSet(inputs: [try NumPyFile.read(TensorFlowCondFixtures.path(TensorFlowCondFixtures.sharedBatchNorm, "input.npy"))])
        for mode in RecalibrationMode.allCases {
            XCTAssertThrowsError(try Recalibrator(mode: mode, batchSize: 3, convention: .tfKeras).apply(to: model, data: data)) {
                XCTAssertEqual($0 as? CalibrationError, .statisticsSharedWithABranchNotRun(node: "pick/bn_b", running: "pick/bn_a"))
            }
        }
    }

    /// Calibration arrays that do not fit the model's input are refused before any run.
    func testRefusesSamplesOfTheWrongShape() throws {
        let model = try RecalibrationFixture(name: "dense_bn", flavour: "keras2").model()
        let data = try CalibrationSet(inputs: [Tensor(shape: [2, 5, 5, 3], floats: Array(repeating: 0, count: 150))])
        XCTAssertThrowsError(try Recalibrator(mode: .momentum, batchSize: 1, convention: .tfKeras).apply(to: model, data: data)) {
            guard case CalibrationError.inputMismatch = $0 else { return XCTFail("\($0)") }
        }
    }
}
