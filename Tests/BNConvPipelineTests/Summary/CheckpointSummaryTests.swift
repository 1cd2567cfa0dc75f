@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvPipeline
@testable import BNConvTestSupport
import Foundation
import XCTest

final class CheckpointSummaryTests: XCTestCase {
    func testSummaryListsLayersAndBatchNormVariablesWithTheDecision() throws {
        let path = FixturePaths.url("keras/bn_noscale/keras2.h5").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        let model = try Checkpoint.read(path)
        let summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
        XCTAssertEqual(summary.format, "keras2-h5")
        XCTAssertEqual(summary.dialect, "keras2")
        XCTAssertEqual(summary.layers.map(\.name), model.nodes.map(\.name))
        XCTAssertEqual(summary.layers.first { $0.name == "conv" }?.className, "Conv2D")
        let bn = try XCTUnwrap(summary.batchNorms.first)
        XCTAssertFalse(bn.scale)
        XCTAssertEqual(bn.variables.map(\.role), ["beta", "moving_mean", "moving_variance"])
        XCTAssertEqual(bn.variables.map(\.name), ["bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"])
        XCTAssertEqual(bn.variables.first?.path, "/model_weights/bn/bn/beta:0")
        XCTAssertEqual(bn.foldInto, "conv")
        XCTAssertNil(bn.reason)
        let text = summary.text(file: "m.h5")
        XCTAssertTrue(text.hasPrefix("m.h5: Keras 2 HDF5 model (.h5) [keras2-h5]"), text)
        XCTAssertTrue(text.contains("fold: into conv"), text)
    }

    func testKeptBatchNormCarriesTheReason() throws {
        let path = FixturePaths.url("keras/conv_relu_bn/keras3.keras").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        let model = try Checkpoint.read(path)
        let summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
        let bn = try XCTUnwrap(summary.batchNorms.first)
        XCTAssertNil(bn.foldInto)
        XCTAssertFalse((bn.reason ?? "").isEmpty)
        XCTAssertTrue(summary.text(file: "m.keras").contains("fold: no, "))
    }
}
