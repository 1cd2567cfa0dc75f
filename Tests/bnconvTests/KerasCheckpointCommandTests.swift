@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Keras TF-format weights (tf_keras `model.save_weights("weights.ckpt")` + `model.to_json()`)
/// through every command: inspect lists the layers and BatchNorms with their checkpoint keys,
/// run answers as tf_keras, convert moves the weights to a Keras 2 `.h5` and from an `.h5` to a
/// checkpoint, fold and recalibrate write checkpoints (the folded architecture beside), verify
/// compares them, and a config that does not match is one error naming the file, the layer and
/// the key, with nothing written.
final class KerasCheckpointCommandTests: XCTestCase {
    /// A scratch folder holding a copy of the fixture.
    private var dir: URL!
    /// The keras_weights fixture.
    private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tf_checkpoint/keras_weights")

    /// Copies the fixture into the scratch folder.
    override func setUpWithError() throws {
        dir = try FixturePaths.scratchDirectory()
        for name in ["weights.ckpt.index", "weights.ckpt.data-00000-of-00001", "checkpoint", "model.json", "model.h5", "input.npy", "output.npy"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
    }

    /// Removes the scratch folder.
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Whether the scratch folder holds `name`.
    private func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path) }

    /// inspect: the format, every layer, each BN variable with its name and key; by folder too; without
    /// `--config`, what to give.
    func testInspectListsLayersAndBatchNormKeys() throws {
        let text = try CLIRunner.run(["inspect", "weights.ckpt", "--config", "model.json", "--verbose"], in: dir)
        XCTAssertEqual(text.status, 0, text.stderr)
        for expected in ["Keras TF-format weights (checkpoint) [keras-tf-checkpoint]", "written by Keras 2.21.0", "conv", "fc",
                         "bn/moving_variance:0  at layer_with_weights-1/moving_variance/.ATTRIBUTES/VARIABLE_VALUE", "fold: into conv",
                         "kernel           [3, 3, 3, 6] float32 hwio  at layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"] {
            XCTAssertTrue(text.stdout.contains(expected), "'\(expected)' not in\n\(text.stdout)")
        }
        XCTAssertFalse(text.stdout.contains("optimizer"), "the optimizer's state is no layer's")
        // The folder with its `checkpoint` state file names the same checkpoint.
        let json = try CLIRunner.run(["inspect", ".", "--config", "model.json", "--json"], in: dir)
        XCTAssertEqual(json.status, 0, json.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["format"] as? String, "keras-tf-checkpoint")
        XCTAssertEqual((summary["batchNorms"] as? [[String: Any]])?.count, 1)
        // Without the architecture: what to give.
        let bare = try CLIRunner.run(["inspect", "weights.ckpt"], in: dir)
        XCTAssertEqual(bare.status, 1)
        XCTAssertTrue(bare.stderr.contains("--config"), bare.stderr)
    }

    /// run answers as tf_keras.
    func testRunAnswersAsTfKeras() throws {
        let result = try CLIRunner.run(["run", "weights.ckpt", "--config", "model.json", "--input", "input.npy", "-o", "y.npy"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        assertClose(try NumPyFile.read(dir.appendingPathComponent("y.npy").path), try NumPyFile.read(dir.appendingPathComponent("output.npy").path))
    }

    /// convert to a Keras 2 `.h5` and from an `.h5` to a checkpoint (architecture and state file
    /// beside); verify finds them equal; a Keras 3 model and a `.weights.h5` name refused.
    func testConvertBetweenCheckpointAndH5() throws {
        let toH5 = try CLIRunner.run(["convert", "weights.ckpt", "--config", "model.json", "-o", "out.h5"], in: dir)
        XCTAssertEqual(toH5.status, 0, toH5.stderr)
        XCTAssertTrue(toH5.stdout.contains("Keras TF-format weights (checkpoint) -> keras2-h5"), toH5.stdout)
        XCTAssertEqual(try Checkpoint.read(dir.appendingPathComponent("out.h5").path).format, .keras2H5)

        let toCheckpoint = try CLIRunner.run(["convert", "model.h5", "-o", "out.ckpt", "--json"], in: dir)
        XCTAssertEqual(toCheckpoint.status, 0, toCheckpoint.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(toCheckpoint.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["target"] as? String, "keras-tf-checkpoint")
        XCTAssertTrue(exists("out.ckpt.index") && exists("out.ckpt.data-00000-of-00001") && exists("out.json"))
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("checkpoint"), encoding: .utf8),
                       "model_checkpoint_path: \"out.ckpt\"\nall_model_checkpoint_paths: \"out.ckpt\"\n")
        let verify = try CLIRunner.run(["verify", "weights.ckpt", "out.ckpt", "--config", "model.json", "--tolerance", "0"], in: dir)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)

        // A Keras 3 model is not what tf_keras loads; a .weights.h5 name is a Keras 3 store (usage errors).
        let keras3 = fixture.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("keras/mini_resnet/keras3.keras").path
        let refused = try CLIRunner.run(["convert", keras3, "-o", "k3.ckpt"], in: dir)
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("Keras 3"), refused.stderr)
        let named = try CLIRunner.run(["convert", "weights.ckpt", "--config", "model.json", "-o", "x.weights.h5"], in: dir)
        XCTAssertEqual(named.status, 2, named.stderr)
        XCTAssertFalse(exists("k3.ckpt.index") || exists("x.weights.h5"))
    }

    /// fold writes `weights.folded.ckpt` + `weights.folded.json` by default (or an `.h5`); recalibrate
    /// changes the moving statistics only.
    func testFoldAndRecalibrateWriteCheckpoints() throws {
        let fold = try CLIRunner.run(["fold", "weights.ckpt", "--config", "model.json"], in: dir)
        XCTAssertEqual(fold.status, 0, fold.stderr)
        XCTAssertTrue(exists("weights.folded.ckpt.index") && exists("weights.folded.json"), "the default output stays a checkpoint")
        let verify = try CLIRunner.run(["verify", "weights.ckpt", "weights.folded.ckpt", "--config", "model.json"], in: dir)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        let foldH5 = try CLIRunner.run(["fold", "weights.ckpt", "--config", "model.json", "-o", "folded.h5"], in: dir)
        XCTAssertEqual(foldH5.status, 0, foldH5.stderr)
        XCTAssertTrue(try Checkpoint.read(dir.appendingPathComponent("folded.h5").path).batchNormIndices.isEmpty)

        let recalibrate = try CLIRunner.run(["recalibrate", "weights.ckpt", "--config", "model.json", "--data", "input.npy", "-o", "fixed.ckpt"], in: dir)
        XCTAssertEqual(recalibrate.status, 0, recalibrate.stderr)
        let before = try TensorBundle(prefix: dir.appendingPathComponent("weights.ckpt").path)
        let after = try TensorBundle(prefix: dir.appendingPathComponent("fixed.ckpt").path)
        XCTAssertEqual(before.keys, after.keys)
        let changed = try before.keys.filter { try before.storedBytes($0) != after.storedBytes($0) }
        XCTAssertEqual(changed, ["layer_with_weights-1/moving_mean/.ATTRIBUTES/VARIABLE_VALUE",
                                 "layer_with_weights-1/moving_variance/.ATTRIBUTES/VARIABLE_VALUE"])
        XCTAssertFalse(exists("fixed.json"), "the architecture did not change")
    }

    /// convert --layout nchw keeps TF-format weights: the staged checkpoint read back and moved into
    /// place with its NCHW architecture and the state file naming it.
    func testLayoutChangeStaysACheckpoint() throws {
        let result = try CLIRunner.run(["convert", "weights.ckpt", "--config", "model.json", "-o", "nchw.ckpt", "--layout", "nchw"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(exists("nchw.ckpt.index") && exists("nchw.ckpt.data-00000-of-00001") && exists("nchw.json"))
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("nchw.json"), encoding: .utf8).contains("channels_first"))
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("checkpoint"), encoding: .utf8),
                       "model_checkpoint_path: \"nchw.ckpt\"\nall_model_checkpoint_paths: \"nchw.ckpt\"\n")
        let model = try Checkpoint.read(dir.appendingPathComponent("nchw.ckpt").path, config: dir.appendingPathComponent("nchw.json").path)
        XCTAssertEqual(model.format, .kerasCheckpoint)
    }

    /// A config whose conv has other filters: one error line naming the checkpoint, the key, the layer
    /// and both shapes, exit 1, nothing written, for inspect, fold and convert.
    func testMismatchedConfigIsOneErrorAndNothingIsWritten() throws {
        var text = try String(contentsOf: dir.appendingPathComponent("model.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"filters\": 6", with: "\"filters\": 4")
        try text.write(to: dir.appendingPathComponent("other.json"), atomically: true, encoding: .utf8)
        for command in [["inspect", "weights.ckpt", "--config", "other.json"],
                        ["fold", "weights.ckpt", "--config", "other.json", "-o", "never.ckpt"],
                        ["convert", "weights.ckpt", "--config", "other.json", "-o", "never.h5"]] {
            let result = try CLIRunner.run(command, in: dir)
            XCTAssertEqual(result.status, 1, "\(command): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { $0.contains("error") }
            XCTAssertEqual(lines.count, 1, result.stderr)
            for word in ["weights.ckpt", "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", "'conv'", "[3, 3, 3, 4]"] {
                XCTAssertTrue(result.stderr.contains(word), "'\(word)' not in \(result.stderr)")
            }
        }
        XCTAssertFalse(exists("never.ckpt.index") || exists("never.h5") || exists("never.json"))
    }
}
