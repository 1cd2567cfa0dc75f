@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// A frozen graph whose FusedBatchNormV3 kept `is_training = true` (written by TensorFlow with the
/// attribute stripped, so TF's default applies): kept by default, folded with --assume-inference.
final class AssumeInferenceTests: XCTestCase {
    func testTrainingModeBatchNormFoldsOnlyWhenAssumed() throws {
        let model = try Checkpoint.read(FixturePaths.url("tensorflow/fused_bn_training_default/graph.pb").path)
        let bnName = try XCTUnwrap(model.batchNormIndices.first.map { model.nodes[$0].name })

        let plain = planBatchNormFolds(model)
        XCTAssertNil(plain.first?.target)
        XCTAssertTrue(plain.first?.reason?.contains("--assume-inference") ?? false, plain.first?.reason ?? "")

        let (assumed, rewritten) = AssumeInference.apply(to: model)
        XCTAssertEqual(rewritten, [bnName])
        guard case .batchNorm(let bn) = try XCTUnwrap(assumed.node(named: bnName)).op else { return XCTFail("not a BN") }
        XCTAssertFalse(bn.training)

        let folded = try FoldBatchNorm().apply(to: assumed)
        XCTAssertEqual(folded.decisions.map(\.folds), [true])
        let input = try NumPyFile.read(FixturePaths.url("tensorflow/fused_bn_training_default/input.npy").path)
        let reference = try ModelRunner(model: assumed).run([input])
        let candidate = try ModelRunner(model: folded.model).run([input])
        assertClose(candidate[0], reference[0], tolerance: 1e-5, "folded vs inference-mode original")
        // And the inference-mode model really differs from the training-mode one TensorFlow ran.
        let training = try NumPyFile.read(FixturePaths.url("tensorflow/fused_bn_training_default/output.npy").path)
        XCTAssertGreaterThan(relativeError(reference[0].floats(), training.floats()), 1e-3)
    }
}
