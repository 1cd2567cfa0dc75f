@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The TensorFlow checkpoint workflow on the command line (#18): inspect a Saver checkpoint and a
/// SavedModel, freeze and fold one into a `.pb` that reads back and answers as TensorFlow did,
/// refuse a training graph with the reason (exit 1, nothing written) unless --assume-inference,
/// recalibrate a checkpoint into a checkpoint.
final class TensorFlowCheckpointCLITests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = try FixturePaths.scratchDirectory()
        addTeardownBlock { [scratch] in try? FileManager.default.removeItem(at: scratch!) }
    }

    private func fixture(_ relative: String) -> String { FixturePaths.url(relative).path }
    private func out(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    func testInspectListsTheBatchNormsOfACheckpointAndASavedModel() throws {
        let ckpt = try CLIRunner.run(["inspect", fixture("tf_checkpoint/slim_conv/model.ckpt")])
        XCTAssertEqual(ckpt.status, 0, ckpt.stderr)
        XCTAssertTrue(ckpt.stdout.contains("conv1/BatchNorm/moving_mean"), ckpt.stdout)
        XCTAssertTrue(ckpt.stdout.contains("BatchNorms (2)"), ckpt.stdout)
        let saved = try CLIRunner.run(["inspect", fixture("tf_savedmodel/tf_keras_save/model"), "--json"])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(saved.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["batchNorms"] as? [Any])?.count, 2, saved.stdout)
    }

    /// A training graph's batch-moment BatchNorms are a graph warning in text and JSON (exit 0); a
    /// SavedModel's BN variables are listed under their checkpoint keys.
    /// Each BN variable's range in `inspect --json` is what TensorFlow read from the checkpoint (facts.json).
    func testInspectShowsVariableRangesAsTensorFlowReadThem() throws {
        let json = try CLIRunner.run(["inspect", fixture("tf_checkpoint/slim_conv/model.ckpt"), "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let bns = try XCTUnwrap(object["batchNorms"] as? [[String: Any]])
        let facts = try fixtureJSON("tf_checkpoint/slim_conv/facts.json")["batch_norms"] as? [[String: Any]] ?? []
        var checked = 0
        for fact in facts {
            guard let values = fact["checkpoint_values"] as? [String: [String: Any]] else { continue }
            for (role, key) in [("gamma", "gamma"), ("moving_mean", "mean"), ("moving_variance", "variance")] {
                guard let name = fact[key] as? String, let expected = values[key] else { continue }
                let variable = try XCTUnwrap(bns.flatMap { ($0["variables"] as? [[String: Any]]) ?? [] }.first { $0["path"] as? String == name && $0["role"] as? String == role }, name)
                XCTAssertEqual(variable["min"] as? Double, expected["min"] as? Double, name)
                XCTAssertEqual(variable["max"] as? Double, expected["max"] as? Double, name)
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 5)
    }

    func testInspectWarnsOfBatchStatisticsAndShowsCheckpointKeys() throws {
        let text = try CLIRunner.run(["inspect", fixture("tf_checkpoint/moments_mlp/model.ckpt")])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("warning [batch-statistics]: 'layer1/batchnorm'"), text.stdout)
        XCTAssertTrue(text.stdout.contains("frozen from checkpoint model.ckpt"), text.stdout)
        let json = try CLIRunner.run(["inspect", fixture("tf_checkpoint/moments_mlp/model.ckpt"), "--json"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let warnings = try XCTUnwrap(object["graphWarnings"] as? [[String: Any]])
        XCTAssertEqual(warnings.map { $0["code"] as? String }, ["batch-statistics", "batch-statistics"])
        XCTAssertEqual((object["frozenFrom"] as? [String: Any])?["variableCount"] as? Int, 8)
        let saved = try CLIRunner.run(["inspect", fixture("tf_savedmodel/tf_keras_save/model")])
        XCTAssertTrue(saved.stdout.contains("/.ATTRIBUTES/VARIABLE_VALUE"), saved.stdout)
    }

    /// A SavedModel's signature and tag set are chosen with --signature and --tags; an unknown one is
    /// an error listing what the file has; --outputs freezes a sub-graph.
    func testSignatureTagsAndOutputsAreChosen() throws {
        let saved = fixture("tf_savedmodel/keras3_export/model")
        let serve = try CLIRunner.run(["inspect", saved, "--signature", "serve", "--json"])
        XCTAssertEqual(serve.status, 0, serve.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(serve.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["frozenFrom"] as? [String: Any])?["signature"] as? String, "serve")
        let unknown = try CLIRunner.run(["inspect", saved, "--signature", "nope"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("no signature 'nope' (it has: serve, serving_default)"), unknown.stderr)
        let tags = try CLIRunner.run(["inspect", saved, "--tags", "train"])
        XCTAssertEqual(tags.status, 1)
        XCTAssertTrue(tags.stderr.contains("keras3_export/model/saved_model.pb: no graph has the tags [train]; the SavedModel holds [serve]"), tags.stderr)
        let sub = try CLIRunner.run(["inspect", fixture("tf_checkpoint/layers_bn/model.ckpt"), "--outputs", "Relu", "--json"])
        XCTAssertEqual(sub.status, 0, sub.stderr)
        let subObject = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(sub.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(subObject["outputs"] as? [String], ["Relu"])
        XCTAssertEqual((subObject["batchNorms"] as? [Any])?.count, 1)
    }

    func testConvertFreezesAndFoldsIntoAGraphDefThatAnswersAsTensorFlow() throws {
        let target = out("frozen.pb")
        let result = try CLIRunner.run(["convert", fixture("tf_checkpoint/resource_vars/model.ckpt"), "-o", target, "--fold"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("PASS"), result.stdout)
        let model = try GraphDefReader.read(target)
        XCTAssertEqual(model.batchNormIndices.count, 0)
        let y = try ModelRunner(model: model).run([try fixtureArray("tf_checkpoint/resource_vars/input.npy")])[0]
        assertClose(y, try fixtureArray("tf_checkpoint/resource_vars/output.npy"), tolerance: 1e-5)
        // fold's default output for a checkpoint is a frozen graph beside it.
        let copy = out("model.ckpt")
        for ext in [".index", ".data-00000-of-00001", ".meta"] {
            try FileManager.default.copyItem(atPath: fixture("tf_checkpoint/slim_conv/model.ckpt") + ext, toPath: copy + ext)
        }
        let fold = try CLIRunner.run(["fold", copy])
        XCTAssertEqual(fold.status, 0, fold.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out("model.folded.pb")), fold.stdout)
    }

    /// A SavedModel folded into a new SavedModel: its frozen graph under the same signature, no
    /// variables, which bnconv reads back (as TensorFlow does: tools/interop/tf_checkpoints.py).
    func testFoldSavedModelIntoSavedModel() throws {
        let target = out("folded_model")
        let result = try CLIRunner.run(["fold", fixture("tf_savedmodel/tf_keras_save/model"), "-o", target])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: target + "/saved_model.pb"))
        let model = try Checkpoint.read(target)
        XCTAssertEqual(model.batchNormIndices.count, 0)
        XCTAssertEqual(model.outputs, ["fc"])
        let y = try ModelRunner(model: model).run([try fixtureArray("tf_savedmodel/tf_keras_save/input.npy")])[0]
        assertClose(y, try fixtureArray("tf_savedmodel/tf_keras_save/output.npy"), tolerance: 1e-5)
        // An existing directory is never written over.
        let again = try CLIRunner.run(["fold", fixture("tf_savedmodel/tf_keras_save/model"), "-o", target])
        XCTAssertNotEqual(again.status, 0, again.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: target + "/saved_model.pb"))
    }

    func testTrainingGraphRefusedUnlessAssumeInference() throws {
        let prefix = fixture("tf_checkpoint/moments_mlp/model.ckpt")
        let refused = try CLIRunner.run(["convert", prefix, "-o", out("m.pb")])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("batch statistics") && refused.stderr.contains("--assume-inference"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("model.ckpt"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("m.pb")))
        let assumed = try CLIRunner.run(["convert", prefix, "-o", out("m.pb"), "--assume-inference", "--fold"])
        XCTAssertEqual(assumed.status, 0, assumed.stderr)
        let y = try ModelRunner(model: try GraphDefReader.read(out("m.pb"))).run([try fixtureArray("tf_checkpoint/moments_mlp/input.npy")])[0]
        assertClose(y, try fixtureArray("tf_checkpoint/moments_mlp/output_infer.npy"), tolerance: 1e-5)
    }

    /// A damaged checkpoint (a truncated index, a flipped byte in the data, a missing data shard):
    /// exit 1, one line naming the file and the problem, nothing written.
    func testDamagedCheckpointIsRefusedAndNothingWritten() throws {
        let source = fixture("tf_checkpoint/slim_conv/model.ckpt")
        let fm = FileManager.default
        func copy(_ name: String) throws -> String {
            let prefix = out(name)
            for ext in [".index", ".data-00000-of-00001", ".meta"] { try fm.copyItem(atPath: source + ext, toPath: prefix + ext) }
            return prefix
        }
        let truncated = try copy("truncated.ckpt")
        let index = try Data(contentsOf: URL(fileURLWithPath: truncated + ".index"))
        try index.prefix(index.count - 20).write(to: URL(fileURLWithPath: truncated + ".index"))
        let flipped = try copy("flipped.ckpt")
        var data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: flipped + ".data-00000-of-00001")))
        data[data.count / 2] ^= 0xFF
        try Data(data).write(to: URL(fileURLWithPath: flipped + ".data-00000-of-00001"))
        let missing = try copy("missing.ckpt")
        try fm.removeItem(atPath: missing + ".data-00000-of-00001")
        for (prefix, named) in [(truncated, "truncated.ckpt.index"), (flipped, "flipped.ckpt"), (missing, "missing.ckpt.data-00000-of-00001")] {
            let target = prefix + ".out.pb"
            let result = try CLIRunner.run(["convert", prefix, "-o", target, "--fold"])
            XCTAssertEqual(result.status, 1, "\(prefix): \(result.stdout)")
            XCTAssertTrue(result.stderr.contains(named), result.stderr)
            XCTAssertFalse(fm.fileExists(atPath: target), prefix)
        }
    }

    func testRecalibrateWritesACheckpointWithOnlyMovingStatisticsChanged() throws {
        let prefix = fixture("tf_checkpoint/stale_stats/model.ckpt")
        let data = out("calib.npy")
        var floats = [Float]()
        var seed: UInt64 = 1
        for _ in 0..<(16 * 8 * 8 * 3) {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            floats.append(Float(Int(seed >> 40) % 2001 - 1000) / 500)
        }
        try NumPyFile.write(Tensor(shape: [16, 8, 8, 3], floats: floats), to: data)
        let target = out("fixed/model.ckpt")
        try FileManager.default.createDirectory(atPath: out("fixed"), withIntermediateDirectories: true)
        let result = try CLIRunner.run(["recalibrate", prefix, "--data", data, "-o", target])
        XCTAssertEqual(result.status, 0, result.stderr)
        let before = try TensorBundle(prefix: prefix), after = try TensorBundle(prefix: target)
        let changed = try before.keys.filter { try before.storedBytes($0) != after.storedBytes($0) }
        XCTAssertEqual(Set(changed), ["bn/moving_mean", "bn/moving_variance"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: target + ".meta"))
    }
}
