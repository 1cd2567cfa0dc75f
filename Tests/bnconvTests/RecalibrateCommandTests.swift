import BNConv
@testable import BNConvTestSupport
import Foundation
import XCTest

final class RecalibrateCommandTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    private func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-recal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// A copy of a fixture file in `dir`.
    private func copy(_ relative: String, to dir: URL) throws -> URL {
        let target = dir.appendingPathComponent(URL(fileURLWithPath: relative).lastPathComponent)
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(relative), to: target)
        return target
    }

    private func statistics(_ model: Model) -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for i in model.batchNormIndices {
            let node = model.nodes[i]
            out[node.name + "/mean"] = node.weight(.movingMean)?.tensor.doubles()
            out[node.name + "/variance"] = node.weight(.movingVariance)?.tensor.doubles()
        }
        return out
    }

    /// Momentum mode writes, beside the input, what Keras 3 stored after `model(batch, training=True)`
    /// on batches of 4; every other weight is unchanged; stderr stays empty off a terminal.
    func testMomentumModeWritesWhatKerasStoresAndNothingElse() throws {
        let dir = try scratch()
        let model = try copy("keras/mini_resnet/keras3.keras", to: dir)
        let data = try copy("keras/mini_resnet/calib.npy", to: dir)
        let result = try CLIRunner.run(["recalibrate", model.path, "--data", data.path, "--mode", "momentum", "--batch-size", "4"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        XCTAssertTrue(result.stdout.contains("block2_0_bn"), result.stdout)
        let written = try Checkpoint.read(dir.appendingPathComponent("keras3.recalibrated.keras").path)
        let original = try Checkpoint.read(model.path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("keras/mini_resnet/recal_momentum_keras3.json"))) as? [String: Any]
        let reference = try XCTUnwrap(json?["batch_norms"] as? [String: [String: Any]])
        let stats = statistics(written)
        for (name, entry) in reference {
            for (key, role) in [("moving_mean", "mean"), ("moving_variance", "variance")] {
                let expected = try XCTUnwrap(entry[key] as? [Double]), got = try XCTUnwrap(stats["\(name)/\(role)"])
                XCTAssertEqual(got.count, expected.count)
                let scale = expected.map(abs).max() ?? 1
                XCTAssertLessThanOrEqual(zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity, 1e-5 * scale, "\(name) \(key)")
            }
        }
        XCTAssertEqual(written.nodes.count, original.nodes.count)
        for (a, b) in zip(original.nodes, written.nodes) {
            for (wa, wb) in zip(a.weights, b.weights) where wa.role != .movingMean && wa.role != .movingVariance {
                XCTAssertEqual(wa.tensor, wb.tensor, "\(a.name) \(wa.role)")
            }
        }
    }

    /// Several --data arrays are joined along the sample axis: two halves give what the whole gives.
    func testSeveralDataFilesAreJoined() throws {
        let dir = try scratch()
        let model = try copy("keras/dense_bn/keras2.h5", to: dir)
        let whole = try NumPyFile.read(fixtures.appendingPathComponent("keras/dense_bn/calib.npy").path)
        let values = whole.floats(), half = values.count / 2, sample = Array(whole.shape.dropFirst())
        try NumPyFile.write(Tensor(shape: [whole.shape[0] / 2] + sample, floats: Array(values[..<half])), to: dir.appendingPathComponent("a.npy").path)
        try NumPyFile.write(Tensor(shape: [whole.shape[0] - whole.shape[0] / 2] + sample, floats: Array(values[half...])), to: dir.appendingPathComponent("b.npy").path)
        try NumPyFile.write(whole, to: dir.appendingPathComponent("all.npy").path)
        let split = try CLIRunner.run(["recalibrate", model.path, "--data", "a.npy", "--data", "b.npy", "-o", "split.h5", "-q"], in: dir)
        let joined = try CLIRunner.run(["recalibrate", model.path, "--data", "all.npy", "-o", "joined.h5", "--batch-size", "5", "-q"], in: dir)
        XCTAssertEqual(split.status, 0, split.stderr)
        XCTAssertEqual(joined.status, 0, joined.stderr)
        XCTAssertEqual(split.stdout, "")
        let a = statistics(try Checkpoint.read(dir.appendingPathComponent("split.h5").path))
        let b = statistics(try Checkpoint.read(dir.appendingPathComponent("joined.h5").path))
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (key, x) in a {
            let y = b[key]!
            let scale = y.map(abs).max() ?? 1
            XCTAssertLessThanOrEqual(zip(x, y).map { abs($0 - $1) }.max() ?? .infinity, 1e-6 * scale, key)
        }
    }

    /// Samples that do not fit the model's input: exit 1, one line naming the data file, nothing written.
    func testDataOfTheWrongShapeIsRefusedAndNothingWritten() throws {
        let dir = try scratch()
        let model = try copy("keras/dense_bn/keras2.h5", to: dir)
        let data = try copy("keras/mini_resnet/calib.npy", to: dir)
        let result = try CLIRunner.run(["recalibrate", model.path, "--data", data.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("calib.npy") && result.stderr.contains("do not fit"), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["calib.npy", "keras2.h5"])
    }

    /// --fold folds after recalibrating and verifies against the recalibrated model; --json reports both.
    func testFoldAfterRecalibrating() throws {
        let dir = try scratch()
        let model = try copy("keras/mini_resnet/keras2.h5", to: dir)
        let data = try copy("keras/mini_resnet/calib.npy", to: dir)
        let result = try CLIRunner.run(["recalibrate", model.path, "--data", data.path, "--fold", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["mode"] as? String, "cumulative")
        XCTAssertEqual(summary["convention"] as? String, "tf-keras")
        XCTAssertEqual((summary["batchNorms"] as? [Any])?.count, 6)
        XCTAssertNotNil(summary["verification"] as? [String: Any])
        XCTAssertNotNil(summary["output"] as? String, "written only when verification passed")
        let folded = try Checkpoint.read(dir.appendingPathComponent("keras2.folded.h5").path)
        XCTAssertLessThan(folded.batchNormIndices.count, 6)
    }

    /// --data is required; --keep without --fold is a usage error (exit 2).
    func testUsageErrors() throws {
        let model = fixtures.appendingPathComponent("keras/dense_bn/keras2.h5").path
        XCTAssertEqual(try CLIRunner.run(["recalibrate", model]).status, 2)
        XCTAssertEqual(try CLIRunner.run(["recalibrate", model, "--data", "x.npy", "--keep", "bn"]).status, 2)
    }
}
