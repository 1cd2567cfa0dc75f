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

    /// A `.pb` whose BatchNorms sit in constant tf.conds: each says its branch (taken or not) in
    /// the summary, the text and the JSON; one outside any cond has no branch, and a model without
    /// conds writes no `branch` key.
    func testEachBatchNormInATfCondSaysItsBranch() throws {
        let model = try Checkpoint.read(TensorFlowFixtures.graph("cond_training_flag"))
        let summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
        let branches = Dictionary(uniqueKeysWithValues: summary.batchNorms.map { ($0.name, $0.branch) })
        XCTAssertEqual(branches.count, 6)
        XCTAssertEqual(branches.values.compactMap { $0 }.count, 4, "\(branches)")
        XCTAssertEqual(branches["bn3/FusedBatchNormV3"], .some(nil))
        let untaken = try XCTUnwrap(summary.batchNorms.first { $0.name == "bn1/cond/FusedBatchNormV3" })
        XCTAssertTrue(untaken.branch?.hasPrefix("true branch of tf.cond 'bn1/cond', not taken") == true, "\(untaken.branch ?? "")")
        XCTAssertTrue(untaken.reason?.contains("it never runs") == true, "\(untaken.reason ?? "")")
        XCTAssertEqual(untaken.warnings, [], "it never runs: no batch-statistics warning")
        let text = summary.text(file: "graph.pb")
        XCTAssertTrue(text.contains("    branch: false branch of tf.cond 'bn1/cond', taken: its predicate is false, the default of PlaceholderWithDefault 'training'"), text)
        XCTAssertEqual(text.components(separatedBy: "\n    branch: ").count - 1, 4, text)
        let json = String(decoding: try JSONEncoder().encode(summary), as: UTF8.self)
        XCTAssertTrue(json.contains("\"branch\""), json)
        let plain = try Checkpoint.read(TensorFlowFixtures.graph("conv_bias_bn"))
        let plainJSON = String(decoding: try JSONEncoder().encode(CheckpointSummary(model: plain, decisions: planBatchNormFolds(plain))), as: UTF8.self)
        XCTAssertFalse(plainJSON.contains("\"branch\""), plainJSON)
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

    /// The stale fixture: each BN carries its warning, the text lists it under the BN and counts
    /// the BNs with warnings at the end, through the given style.
    func testWarningsUnderEachBatchNormAndCounted() throws {
        let model = try Checkpoint.read(FixturePaths.url("diagnostics/stale_moving_statistics/keras2.h5").path)
        let summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
        XCTAssertEqual(summary.batchNorms.map { $0.warnings.map(\.code) }, [["stale-moving-statistics"], ["stale-moving-statistics"]])
        XCTAssertEqual(summary.batchNormsWithWarnings, 2)
        XCTAssertEqual(summary.batchNorms.map(\.foldInto), ["conv", "conv2"], "a warning refuses nothing")
        let text = summary.text(file: "m.h5", warningStyle: { "<\($0)>" })
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("    <warning [stale-moving-statistics]>: bn's moving_mean") })
        XCTAssertEqual(lines[first - 1], "    fold: into conv")
        XCTAssertEqual(lines.last, "<2 BatchNorms with warnings>")
        XCTAssertEqual(summary.text(file: "m.h5").split(separator: "\n").last, "2 BatchNorms with warnings")

        // Warnings given by the caller replace the diagnosis.
        let given = CheckpointSummary(model: model, decisions: [], warnings: [BatchNormWarning(batchNorm: "bn2", code: .zeroVariance, message: "m")])
        XCTAssertEqual(given.batchNorms.map(\.warnings), [[], [CheckpointSummary.Warning(code: "zero-variance", message: "m")]])
        XCTAssertEqual(given.batchNormsWithWarnings, 1)
        XCTAssertEqual(given.text(file: "m.h5").split(separator: "\n").last, "1 BatchNorm with warnings")
    }

    /// `warnings` is always in the JSON, an empty list for a healthy BN, and no count line is printed.
    func testHealthyBatchNormHasAnEmptyWarningList() throws {
        let model = try Checkpoint.read(FixturePaths.url("keras/conv2d_bias_bn/keras2.h5").path)
        let summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any])
        let bns = try XCTUnwrap(json["batchNorms"] as? [[String: Any]])
        XCTAssertEqual(bns.count, 1)
        XCTAssertEqual((bns[0]["warnings"] as? [Any])?.count, 0)
        XCTAssertFalse(summary.text(file: "m.h5").contains("with warnings"))
    }
}
