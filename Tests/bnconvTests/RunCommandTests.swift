import BNConv
@testable import BNConvTestSupport
import Foundation
import XCTest

final class RunCommandTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    private func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testRunsAKerasModelOnAGivenInputAndSavesWhatKerasPredicts() throws {
        let folder = fixtures.appendingPathComponent("keras/mini_resnet")
        let out = try scratch().appendingPathComponent("y.npy")
        let result = try CLIRunner.run(["run", folder.appendingPathComponent("keras2.h5").path,
                                        "--input", folder.appendingPathComponent("input.npy").path, "-o", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let y = try NumPyFile.read(out.path)
        let expected = try NumPyFile.read(folder.appendingPathComponent("output_keras2.npy").path)
        XCTAssertEqual(y.shape, expected.shape)
        let scale = expected.floats().map(abs).max() ?? 1
        let worst = zip(y.floats(), expected.floats()).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 1e-5 * scale)
    }

    func testWinogradAndDirectConvolutionsBothGiveWhatOnnxruntimeGave() throws {
        let folder = fixtures.appendingPathComponent("engine/onnx/conv3x3_pads")
        let expected = try NumPyFile.read(folder.appendingPathComponent("y.npy").path)
        let scale = expected.floats().map(abs).max() ?? 1
        for flag in ["--winograd", "--no-winograd"] {
            let out = try scratch().appendingPathComponent("y.npy")
            let result = try CLIRunner.run(["run", folder.appendingPathComponent("model.onnx").path,
                                            "--input", folder.appendingPathComponent("x.npy").path, "-o", out.path, flag])
            XCTAssertEqual(result.status, 0, result.stderr)
            let y = try NumPyFile.read(out.path)
            XCTAssertEqual(y.shape, expected.shape, flag)
            let worst = zip(y.floats(), expected.floats()).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-5 * scale, flag)
        }
    }

    func testRandomInputIsSeededAndTakesTheBatch() throws {
        let model = fixtures.appendingPathComponent("keras/mini_resnet/keras3.keras").path
        let a = try CLIRunner.run(["run", model, "--batch", "3", "--seed", "7"])
        let b = try CLIRunner.run(["run", model, "--batch", "3", "--seed", "7"])
        let c = try CLIRunner.run(["run", model, "--batch", "3", "--seed", "8"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertTrue(a.stdout.contains("shape [3, 10]"), a.stdout)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertNotEqual(a.stdout, c.stdout)
    }

    func testTimePrintsMilliseconds() throws {
        let model = fixtures.appendingPathComponent("keras/conv2d_bias_bn/keras2.h5").path
        let result = try CLIRunner.run(["run", model, "--time", "--runs", "3"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("time: batch 1, 3 runs, median "), result.stdout)
    }

    func testProfileListsTimePerOpKind() throws {
        let model = fixtures.appendingPathComponent("keras/mini_resnet/keras2.h5").path
        let result = try CLIRunner.run(["run", model, "--time", "--runs", "2", "--profile", "--threads", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains("Conv2D") && $0.hasSuffix(" ms") }, result.stdout)
    }

    /// `--profile` and `--json` say what planning evaluated once (the shape subgraph fixture, batch 2).
    func testProfileAndJSONSayWhatWasEvaluatedOnce() throws {
        let folder = fixtures.appendingPathComponent("engine/shape_folding/onnx_shape_chain")
        let arguments = ["run", folder.appendingPathComponent("model.onnx").path,
                         "--input", folder.appendingPathComponent("x_batch2.npy").path, "--time", "--runs", "2"]
        let profile = try CLIRunner.run(arguments + ["--profile"])
        XCTAssertEqual(profile.status, 0, profile.stderr)
        let lines = profile.stdout.split(separator: "\n").map(String.init)
        let line = lines.first { $0.contains("evaluated once at planning") } ?? ""
        // Then the slowest nodes, each with the shape it wrote.
        XCTAssertTrue(lines.contains("  slowest nodes (--verbose: all):"), profile.stdout)
        XCTAssertTrue(lines.contains { $0.contains(" ms  ConstantOfShape") && $0.hasSuffix(" big_fill -> [2, 300, 300]") }, profile.stdout)
        XCTAssertTrue(line.hasPrefix("  16 nodes evaluated once at planning (Concat 4, Cast 2, Gather 2, ConstantOfShape 1,"), profile.stdout)
        XCTAssertTrue(line.hasSuffix(", 3 reshapes as views, 11 kernels per run"), profile.stdout)
        let json = try CLIRunner.run(arguments + ["--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let planning = try XCTUnwrap(object["planning"] as? [String: Any])
        XCTAssertEqual(planning["nodesEvaluatedOnce"] as? Int, 16)
        XCTAssertEqual((planning["byOp"] as? [String: Int])?["Concat"], 4)
        XCTAssertEqual(planning["reshapeViews"] as? Int, 3)
        XCTAssertEqual(planning["kernelsPerRun"] as? Int, 11)
    }

    func testAnOpTheEngineCannotRunIsNamedWithItsLayer() throws {
        let out = try scratch().appendingPathComponent("y.npy")
        let result = try CLIRunner.run(["run", fixtures.appendingPathComponent("engine/cli/layernorm.h5").path, "-o", out.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("Keras layer 'LayerNormalization' is not supported (node 'ln')"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing is written on error")
    }

    func testWrongInputCountIsRefused() throws {
        let folder = fixtures.appendingPathComponent("keras/add_concat")
        let input = folder.appendingPathComponent("input.npy").path
        let result = try CLIRunner.run(["run", folder.appendingPathComponent("keras2.h5").path, "--input", input, "--input", input])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("takes 1 input(s), got 2"), result.stderr)
    }
}
