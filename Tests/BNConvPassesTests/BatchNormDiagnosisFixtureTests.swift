@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// ``BatchNormDiagnosis`` over every model file in Tests/Fixtures (every family but the hostile
/// inputs of `robustness/`): the healthy trained models get no warning, and the few that warn give
/// exactly the warnings listed here (from their README) or in `diagnostics/<case>/facts.json`.
final class BatchNormDiagnosisFixtureTests: XCTestCase {
    /// Fixtures that legitimately warn, by path under Tests/Fixtures: BN name -> codes.
    private static let warning: [String: [String: [String]]] = [
        // FusedBatchNormV3 with is_training deleted: TensorFlow's default (true) normalizes with batch statistics.
        "tensorflow/fused_bn_training_default/graph.pb": ["conv_bias_bn/bn/FusedBatchNormV3": ["batch-statistics"]],
        // BatchNormalization with training_mode=1 and its statistics outputs: a training graph.
        "onnx/bn_training/model.onnx": ["bn": ["batch-statistics"]],
        // Trained without running the update ops: gamma/beta moved, moving statistics still 0/1.
        "tf_checkpoint/stale_stats/model.ckpt": ["bn/FusedBatchNormV3": ["stale-moving-statistics"]],
    ]

    /// Fixtures bnconv refuses to read by design.
    private static let unreadable: Set<String> = [
        "onnx/external_data/model.onnx",   // its initializers live in weights.bin
    ]

    /// Expected warnings of the diagnostics family, from each case's facts.json `expect_warnings`.
    private func diagnosticsExpectations() throws -> [String: [String: [String]]] {
        let root = FixturePaths.url("diagnostics")
        var out: [String: [String: [String]]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let factsURL = root.appendingPathComponent(name).appendingPathComponent("facts.json")
            guard let data = FileManager.default.contents(atPath: factsURL.path) else { continue }
            let facts = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let expect = try XCTUnwrap(facts["expect_warnings"] as? [String: [String: [String]]], "\(name): expect_warnings")
            for (file, warnings) in expect { out["diagnostics/\(name)/\(file)"] = warnings }
        }
        return out
    }

    /// Diagnoses every model file of `family` (a folder of Tests/Fixtures) and checks its warnings
    /// against the expectations; returns how many files and BatchNorms it checked.
    @discardableResult
    private func check(family: String, atLeast minimumFiles: Int) throws -> (files: Int, batchNorms: Int) {
        let expected = try Self.warning.merging(diagnosticsExpectations()) { a, _ in a }.filter { $0.key.hasPrefix(family + "/") }
        var checked = 0, batchNorms = 0, warned = Set<String>()
        for (relative, config) in try FixtureModelFiles.all() where relative.hasPrefix(family + "/") {
            let path = FixturePaths.url(relative).path
            let model: Model
            do {
                model = try Checkpoint.read(path, config: config)
            } catch {
                XCTAssertTrue(Self.unreadable.contains(relative), "\(relative): \(error)")
                continue
            }
            XCTAssertFalse(Self.unreadable.contains(relative), "\(relative) was expected to be refused")
            checked += 1
            batchNorms += model.batchNormIndices.count
            let found = BatchNormDiagnosis(model: model).warnings()
            var actual: [String: [String]] = [:]
            for w in found { actual[w.batchNorm, default: []].append(w.code.rawValue) }
            XCTAssertEqual(actual, expected[relative] ?? [:], "\(relative): \(found.map(\.message))")
            if !found.isEmpty { warned.insert(relative) }
        }
        XCTAssertEqual(warned, Set(expected.keys), "\(family): every expected warning was met")
        XCTAssertGreaterThanOrEqual(checked, minimumFiles, "\(family): model files checked")
        return (checked, batchNorms)
    }

    /// Every Keras file of every case, both flavours and every file kind (27 cases, 158 files).
    func testKerasFixturesHaveNoWarnings() throws {
        let counts = try check(family: "keras", atLeast: 150)
        XCTAssertGreaterThanOrEqual(counts.batchNorms, 300)
    }

    /// Every frozen GraphDef; fused_bn_training_default warns batch-statistics.
    func testTensorFlowFixturesWarnOnlyForBatchStatistics() throws {
        try check(family: "tensorflow", atLeast: 21)
    }

    /// The layout-conversion GraphDefs (random statistics, variance in [0.3, 2]): no warning.
    func testTensorFlowLayoutFixturesHaveNoWarnings() throws {
        try check(family: "tensorflow_layout", atLeast: 13)
    }

    /// Every ONNX fixture; bn_training warns batch-statistics, external_data is refused.
    func testONNXFixturesWarnOnlyForBatchStatistics() throws {
        try check(family: "onnx", atLeast: 24)
    }

    /// The onnx backend node tests (their BatchNormalization tests take the statistics as graph
    /// inputs, so they read as op-library nodes, not typed BatchNorms).
    func testONNXNodeFixturesHaveNoWarnings() throws {
        try check(family: "onnx_node", atLeast: 150)
    }

    /// The op-library export fixtures: graphs of raw TensorFlow ops and old-opset ONNX graphs
    /// (one BatchNormalization of opset 7 among them).
    func testOpLibraryExportFixturesHaveNoWarnings() throws {
        try check(family: "graphdef_ops", atLeast: 4)
        try check(family: "onnx_opset", atLeast: 25)
    }

    /// The engine's reference models.
    func testEngineFixturesHaveNoWarnings() throws {
        try check(family: "engine", atLeast: 2)
    }

    /// The diagnosis fixtures warn as their facts.json says.
    /// TensorFlow checkpoints (read with their .meta) and the Keras model beside the TF-format weights.
    func testTensorFlowCheckpointFixturesWarnOnlyForStaleStatistics() throws {
        try check(family: "tf_checkpoint", atLeast: 7)
    }

    /// TF1 and TF2 SavedModels.
    func testSavedModelFixturesHaveNoWarnings() throws {
        try check(family: "tf_savedmodel", atLeast: 5)
    }

    func testDiagnosticsFixturesWarnAsRecorded() throws {
        XCTAssertFalse(try diagnosticsExpectations().isEmpty, "the diagnostics fixtures are missing")
        try check(family: "diagnostics", atLeast: 3)
    }

    /// The families above are every folder of Tests/Fixtures that holds model files (but the
    /// hostile inputs of robustness/), so a new family is not left out unnoticed.
    func testEveryFamilyIsChecked() throws {
        let families = Set(try FixtureModelFiles.all().map { String($0.path.prefix { $0 != "/" }) })
        XCTAssertEqual(families, ["keras", "tensorflow", "onnx", "onnx_node", "engine", "diagnostics", "tf_checkpoint", "tf_savedmodel",
                                  "graphdef_ops", "onnx_opset", "tensorflow_layout"])
    }

    /// The stale fixture in each of its three formats: every BN's message names it, its channel
    /// count and the trained gamma and beta, and the statistics fold exactly as stored (a warning
    /// refuses nothing).
    func testStaleFixtureMessagesAndFolds() throws {
        let dir = FixturePaths.url("diagnostics/stale_moving_statistics")
        for file in ["keras2.h5", "graph.pb", "model.onnx"] {
            let model = try Checkpoint.read(dir.appendingPathComponent(file).path)
            let found = BatchNormDiagnosis(model: model).warnings()
            XCTAssertEqual(found.count, 2, file)
            for w in found {
                XCTAssertTrue(w.message.hasPrefix("\(w.batchNorm)'s moving_mean is 0 and moving_variance 1 in all "), w.message)
                XCTAssertTrue(w.message.contains("gamma (") && w.message.contains("beta ("), w.message)
            }
            XCTAssertTrue(found[0].message.contains("in all 6 channels"), found[0].message)
            XCTAssertTrue(found[1].message.contains("in all 4 channels"), found[1].message)
            XCTAssertEqual(planBatchNormFolds(model).filter(\.folds).count, 2, file)
        }
    }
}
