@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Runs `bnconv inspect` on committed fixtures and on bad input.
final class InspectCommandTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras")

    private func fixture(_ relative: String) throws -> String {
        let path = InspectCommandTests.fixtures.appendingPathComponent(relative).path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "\(relative) not committed yet")
        return path
    }

    func testTextReportNamesFormatLayersAndBatchNorms() throws {
        let path = try fixture("conv2d_bias_bn/keras2.h5")
        let result = try CLIRunner.run(["inspect", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Keras 2 HDF5 model (.h5) [keras2-h5]"), result.stdout)
        XCTAssertTrue(result.stdout.contains("BatchNormalization"), result.stdout)
        XCTAssertTrue(result.stdout.contains("bn/moving_variance:0"), result.stdout)
        XCTAssertTrue(result.stdout.contains("fold: into conv"), result.stdout)
        XCTAssertEqual(result.stderr, "")
    }

    func testJSONReportHasAStableSchema() throws {
        let path = try fixture("conv2d_bias_bn/keras3.keras")
        let result = try CLIRunner.run(["inspect", path, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["format"] as? String, "keras-zip")
        XCTAssertFalse((object["layers"] as? [Any])?.isEmpty ?? true)
        let bns = try XCTUnwrap(object["batchNorms"] as? [[String: Any]])
        XCTAssertEqual(bns.count, 1)
        XCTAssertEqual(bns[0]["name"] as? String, "bn")
        XCTAssertNotNil(bns[0]["epsilon"] as? Double)
        XCTAssertEqual(bns[0]["axis"] as? Int, -1)
        XCTAssertEqual((bns[0]["variables"] as? [Any])?.count, 4)
        XCTAssertEqual(bns[0]["foldInto"] as? String, "conv")
        XCTAssertEqual((bns[0]["warnings"] as? [Any])?.count, 0, "warnings is always present")
    }

    private static let diagnostics = InspectCommandTests.fixtures.deletingLastPathComponent().appendingPathComponent("diagnostics")

    /// The stale fixture in every format: one warning under each BN, the count at the end, the
    /// exit status 0, nothing on stderr; `-q` adds the count to its line.
    func testStaleStatisticsWarnUnderEachBatchNorm() throws {
        for file in ["keras2.h5", "graph.pb", "model.onnx"] {
            let path = Self.diagnostics.appendingPathComponent("stale_moving_statistics/\(file)").path
            let result = try CLIRunner.run(["inspect", path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stderr, "")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            let warnings = lines.filter { $0.hasPrefix("    warning [stale-moving-statistics]: ") }
            XCTAssertEqual(warnings.count, 2, result.stdout)
            XCTAssertTrue(warnings.allSatisfy { $0.contains("updates never ran") && $0.contains("bnconv recalibrate") }, result.stdout)
            XCTAssertEqual(lines.last, "2 BatchNorms with warnings", file)

            let quiet = try CLIRunner.run(["inspect", path, "-q"])
            XCTAssertEqual(quiet.status, 0, quiet.stderr)
            XCTAssertTrue(quiet.stdout.hasSuffix(", 2 BatchNorm(s), 2 foldable, 2 with warnings\n"), quiet.stdout)
        }
        let healthy = try CLIRunner.run(["inspect", try fixture("conv2d_bias_bn/keras2.h5")])
        XCTAssertFalse(healthy.stdout.contains("warning"), healthy.stdout)
    }

    /// `--json`: `batchNorms[i].warnings[]`, objects with `code` and `message`.
    func testJSONWarnings() throws {
        let stale = try CLIRunner.run(["inspect", Self.diagnostics.appendingPathComponent("stale_moving_statistics/model.onnx").path, "--json"])
        XCTAssertEqual(stale.status, 0, stale.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stale.stdout.utf8)) as? [String: Any])
        let bns = try XCTUnwrap(object["batchNorms"] as? [[String: Any]])
        XCTAssertEqual(bns.map { $0["name"] as? String }, ["bn", "bn2"])
        for bn in bns {
            let warnings = try XCTUnwrap(bn["warnings"] as? [[String: Any]])
            XCTAssertEqual(warnings.count, 1)
            XCTAssertEqual(Set(warnings[0].keys), ["code", "message"])
            XCTAssertEqual(warnings[0]["code"] as? String, "stale-moving-statistics")
            XCTAssertTrue((warnings[0]["message"] as? String)?.hasPrefix("\(bn["name"] as? String ?? "")'s moving_mean is 0") ?? false)
        }

        let training = FixturePaths.url("tensorflow/fused_bn_training_default/graph.pb").path
        let result = try CLIRunner.run(["inspect", training, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let warnings = try XCTUnwrap((json["batchNorms"] as? [[String: Any]])?.first?["warnings"] as? [[String: Any]])
        XCTAssertEqual(warnings.map { $0["code"] as? String }, ["batch-statistics"])
        XCTAssertTrue((warnings.first?["message"] as? String)?.contains("--assume-inference") ?? false)
    }

    func testWeightsOnlyFileWithConfig() throws {
        let weights = try fixture("dense_bn/keras3.weights.h5")
        let config = try fixture("dense_bn/keras3.json")
        let result = try CLIRunner.run(["inspect", weights, "--config", config])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("[keras3-weights-h5]"), result.stdout)
    }

    func testBadInputExitsOneWithOneLineAndWritesNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-inspect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let random = dir.appendingPathComponent("random.bin")
        _ = FileManager.default.createFile(atPath: random.path, contents: Data((0..<512).map { UInt8(($0 * 37) % 127) }))
        let truncated = dir.appendingPathComponent("truncated.h5")
        let full = try FileManager.default.contents(atPath: fixture("conv2d_bias_bn/keras2.h5"))!
        _ = FileManager.default.createFile(atPath: truncated.path, contents: full.prefix(2000))
        let notKeras = dir.appendingPathComponent("not_keras.h5")
        let h5 = try HDF5File.create(notKeras.path)
        try h5.root().createDataset("data", tensor: Tensor(shape: [3], floats: [1, 2, 3]))
        try h5.close()
        let cases: [(String, [String], String)] = [
            (dir.appendingPathComponent("missing.h5").path, [], "no such file"),
            (random.path, [], "not a checkpoint"),
            (truncated.path, [], "truncated"),
            (notKeras.path, [], "not a Keras checkpoint"),
        ]
        for (path, extra, words) in cases {
            let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            let result = try CLIRunner.run(["inspect", path] + extra, in: dir)
            XCTAssertEqual(result.status, 1, path)
            XCTAssertEqual(result.stdout, "", path)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(words), result.stderr)
            XCTAssertTrue(result.stderr.contains((path as NSString).lastPathComponent) || result.stderr.contains("random.bin"), result.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), before, "nothing written")
        }
    }
}
