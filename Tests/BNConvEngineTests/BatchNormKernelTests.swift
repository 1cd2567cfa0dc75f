@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class BatchNormKernelTests: XCTestCase {
    /// A one-node model holding the fixture's BN with `attributes`.
    private func model(_ f: BatchNormFixture, _ attributes: BatchNorm) throws -> Model {
        func w(_ role: WeightRole, _ file: String) throws -> Weight { Weight(role: role, tensor: try f.array(file), storageKey: file) }
        let node = Node(name: "bn", op: .batchNorm(attributes), inputs: ["x"], outputs: ["y"],
                        weights: [try w(.gamma, "gamma"), try w(.beta, "beta"), try w(.movingMean, "moving_mean"),
                                  try w(.movingVariance, "moving_variance")])
        return Model(name: "bn", format: .kerasZip, inputs: ["x"], outputs: ["y"], nodes: [node], values: [:])
    }

    func testInferenceNodeMatchesTfKerasForEveryLayout() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            let runner = try ModelRunner(model: try model(f, BatchNorm(epsilon: f.epsilon, momentum: f.momentum, axis: f.axis)))
            assertClose(try runner.run([f.x])[0], try f.array("infer_tfkeras"), name)
        }
    }

    func testTrainingModeNodeNormalizesWithBatchStatistics() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            let attributes = BatchNorm(epsilon: f.epsilon, momentum: f.momentum, axis: f.axis, training: true)
            let runner = try ModelRunner(model: try model(f, attributes))
            assertClose(try runner.run([try f.array("train_x0")])[0], try f.array("train_keras3_y0"), name)
        }
    }

    func testFrozenKerasLayerRunsInInference() throws {
        let f = try BatchNormFixture("nhwc")
        let attributes = BatchNorm(epsilon: f.epsilon, momentum: f.momentum, axis: f.axis, training: false, trainable: false)
        let runner = try ModelRunner(model: try model(f, attributes))
        assertClose(try runner.run([f.x])[0], try f.array("frozen_training_tfkeras"))
    }
}
