@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class BatchNormLayerTests: XCTestCase {
    func testInferenceMatchesTfKeras() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            var layer = try f.layer()
            let y = try layer(f.x.floats(), shape: f.x.shape, mode: .inference)
            assertClose(y, shape: f.x.shape, try f.array("infer_tfkeras"), name)
            XCTAssertEqual(layer.movingMean, try f.array("moving_mean").doubles(), "inference must not move statistics")
        }
    }

    func testCenterAndScaleOff() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            var layer = try f.layer(center: false, scale: false)
            let y = try layer(f.x.floats(), shape: f.x.shape, mode: .inference)
            assertClose(y, shape: f.x.shape, try f.array("infer_nocenter_noscale"), name)
        }
    }

    func testFrozenLayerCalledInTrainingRunsInInference() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            XCTAssertEqual(f.facts["frozen_training_updated_moving_stats"] as? Bool, false, name)
            var layer = try f.layer()
            let mode = BatchNormMode.kerasCall(training: true, trainable: false)
            XCTAssertEqual(mode, .inference)
            let y = try layer(f.x.floats(), shape: f.x.shape, mode: mode)
            assertClose(y, shape: f.x.shape, try f.array("frozen_training_tfkeras"), name)
        }
    }

    func testRecordedVarianceConventionsMatchTheFactoryRules() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            XCTAssertEqual(BatchNormMovingAverage.tfKeras(momentum: f.momentum, inputRank: f.x.rank),
                           .keras(momentum: f.momentum, variance: try f.recordedVariance("tfkeras")), name)
            XCTAssertEqual(BatchNormMovingAverage.keras3(momentum: f.momentum),
                           .keras(momentum: f.momentum, variance: try f.recordedVariance("keras3")), name)
        }
    }

    func testThreeTrainingStepsMatchBothKerasFlavours() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            let flavours: [(String, BatchNormMovingAverage)] = [
                ("tfkeras", .tfKeras(momentum: f.momentum, inputRank: f.x.rank)),
                ("keras3", .keras3(momentum: f.momentum)),
            ]
            for (flavour, rule) in flavours {
                var layer = try f.layer(movingAverage: rule)
                for step in 0..<3 {
                    let x = try f.array("train_x\(step)")
                    let y = try layer(x.floats(), shape: x.shape, mode: .training(updatesMovingStatistics: true))
                    assertClose(y, shape: x.shape, try f.array("train_\(flavour)_y\(step)"), "\(name) \(flavour) step \(step)")
                }
                assertClose(layer.movingMean, shape: [layer.movingMean.count], try f.array("train_\(flavour)_moving_mean"),
                            "\(name) \(flavour) moving mean")
                assertClose(layer.movingVariance, shape: [layer.movingVariance.count],
                            try f.array("train_\(flavour)_moving_variance"), "\(name) \(flavour) moving variance")
            }
        }
    }

    func testTheOtherVarianceConventionWouldBeWrongOn4D() throws {
        let f = try BatchNormFixture("nhwc")
        var layer = try f.layer(movingAverage: .keras3(momentum: f.momentum))
        for step in 0..<3 {
            let x = try f.array("train_x\(step)")
            _ = try layer(x.floats(), shape: x.shape, mode: .training(updatesMovingStatistics: true))
        }
        let reference = try f.array("train_tfkeras_moving_variance").doubles()
        XCTAssertGreaterThan(relativeError(layer.movingVariance, reference), 1e-3)
    }

    func testTrainingWithoutUpdateKeepsMovingStatistics() throws {
        let f = try BatchNormFixture("nhwc")
        var layer = try f.layer()
        let x = try f.array("train_x0")
        let y = try layer(x.floats(), shape: x.shape, mode: BatchNormMode(BatchNorm(training: true, trainable: false)))
        assertClose(y, shape: x.shape, try f.array("train_keras3_y0"))
        XCTAssertEqual(layer.movingMean, try f.array("moving_mean").doubles())
        XCTAssertEqual(layer.movingVariance, try f.array("moving_variance").doubles())
    }

    func testPyTorchConventionFlipsMomentumAndStoresUnbiasedVariance() {
        let rule = BatchNormMovingAverage.pytorch(momentum: 0.1)
        let next = rule.update(moving: (mean: 1, variance: 2), batchMean: 3, batchVariance: 4, count: 5)
        XCTAssertEqual(next.mean, 0.9 * 1 + 0.1 * 3, accuracy: 1e-15)
        XCTAssertEqual(next.variance, 0.9 * 2 + 0.1 * (4 * 5.0 / 4), accuracy: 1e-15)
    }

    func testNodeInitializerReadsWeightsByRole() throws {
        let f = try BatchNormFixture("nchw")
        func w(_ role: WeightRole, _ file: String) throws -> Weight { Weight(role: role, tensor: try f.array(file), storageKey: file) }
        let node = Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: f.epsilon, axis: 1)), inputs: ["x"], outputs: ["y"],
                        weights: [try w(.gamma, "gamma"), try w(.beta, "beta"), try w(.movingMean, "moving_mean"),
                                  try w(.movingVariance, "moving_variance")])
        var layer = try BatchNormLayer(node: node, attributes: BatchNorm(epsilon: f.epsilon, axis: 1))
        assertClose(try layer(f.x.floats(), shape: f.x.shape, mode: .inference), shape: f.x.shape, try f.array("infer_tfkeras"))
        var missing = node
        missing.weights.removeLast()
        XCTAssertThrowsError(try BatchNormLayer(node: missing, attributes: BatchNorm(axis: 1))) { error in
            XCTAssertEqual(error as? EngineError, .missingWeight(node: "bn", role: .movingVariance))
        }
    }
}
