@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// A `.pb` holding `tf.cond` control flow on the command line: with a constant predicate
/// (`training` left at its default, a bool Const) `run` gives TensorFlow's output, `fold` verifies
/// and `verify` passes, `inspect` shows each BN's branch; a computed predicate is refused by the
/// engine with the Switch named, and folds only without verification. `recalibrate` stores what
/// TensorFlow measures for BNs on a `training` flag, and refuses a BN whose statistics two branches
/// read, saying so.
final class TensorFlowCondCLITests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = try FixturePaths.scratchDirectory()
        addTeardownBlock { [scratch] in try? FileManager.default.removeItem(at: scratch!) }
    }

    private func out(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    func testRunFoldAndVerifyAConstantCond() throws {
        for name in TensorFlowCondFixtures.constantCases {
            let graph = TensorFlowFixtures.graph(name)
            let input = TensorFlowCondFixtures.path(name, "input.npy")
            let run = try CLIRunner.run(["run", graph, "--input", input, "-o", out("\(name).npy")])
            XCTAssertEqual(run.status, 0, run.stderr)
            assertClose(try NumPyFile.read(out("\(name).npy")), try NumPyFile.read(TensorFlowCondFixtures.path(name, "output.npy")), tolerance: 1e-5, name)

            let fold = try CLIRunner.run(["fold", graph, "-o", out("\(name).folded.pb"), "--input", input])
            XCTAssertEqual(fold.status, 0, fold.stderr)
            XCTAssertTrue(fold.stdout.contains("1 folded"), fold.stdout)
            // The untaken branch named by the Switch output it starts at (TensorFlow never ran what it feeds).
            let start = name == "cond_training_flag" ? "bn1/cond/FusedBatchNormV3/Switch:1" : "pick/conv_b/Switch:0"
            XCTAssertTrue(fold.stdout.contains("kept: it never runs: no model output depends on it (it is in the branch that starts at \(start), which no output reads)"), fold.stdout)
            XCTAssertTrue(fold.stdout.contains(": PASS"), fold.stdout)

            let verify = try CLIRunner.run(["verify", graph, out("\(name).folded.pb"), "--input", input])
            XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
            let folded = try CLIRunner.run(["run", out("\(name).folded.pb"), "--input", input, "-o", out("\(name).folded.npy")])
            XCTAssertEqual(folded.status, 0, folded.stderr)
            assertClose(try NumPyFile.read(out("\(name).folded.npy")), try NumPyFile.read(TensorFlowCondFixtures.path(name, "output.npy")), tolerance: 1e-5, name)
        }
        let inspect = try CLIRunner.run(["inspect", TensorFlowFixtures.graph("cond_training_flag")])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("""
                branch: false branch of tf.cond 'bn2/cond', taken: its predicate is false, the default of PlaceholderWithDefault 'training' (feeding true takes the other branch)
                fold: no, conv2/Conv2D's output also feeds bn2/cond/FusedBatchNormV3/Switch:1; folding would change that branch too
            """), inspect.stdout)
    }

    func testAComputedPredicateIsRefusedByTheEngine() throws {
        let graph = TensorFlowFixtures.graph("cond_computed_pred")
        let input = TensorFlowCondFixtures.path("cond_computed_pred", "input.npy")
        let run = try CLIRunner.run(["run", graph, "--input", input, "-o", out("y.npy")])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("TensorFlow op 'Switch (its predicate pick/pred_id is not constant)' is not supported (node 'pick/conv_"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("y.npy")))
        // The whole model cannot run, so each fold is checked on its own (against its float64
        // reference) and the output says why the whole model was not.
        let fold = try CLIRunner.run(["fold", graph, "-o", out("folded.pb")])
        XCTAssertEqual(fold.status, 0, fold.stderr)
        XCTAssertTrue(fold.stdout.contains("each of 2 fold(s) checked on its own"), fold.stdout)
        XCTAssertTrue(fold.stdout.contains("the whole model was not run") && fold.stdout.contains("is not constant"), fold.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out("folded.pb")))
        try FileManager.default.removeItem(atPath: out("folded.pb"))
        let unverified = try CLIRunner.run(["fold", graph, "-o", out("folded.pb"), "--no-verify"])
        XCTAssertEqual(unverified.status, 0, unverified.stderr)
        XCTAssertTrue(unverified.stdout.contains("2 folded"), unverified.stdout)
    }

    /// tf.layers BNs on a `training` flag: recalibrated (the tf.cond's inference node measured,
    /// both nodes given the result), written as a `.pb` whose moving-statistics Consts hold what
    /// TensorFlow measures, and which answers as TensorFlow does with them; with `--fold` too.
    func testRecalibrateATrainingFlagCondStoresWhatTensorFlowMeasures() throws {
        let name = "cond_training_flag"
        let graph = TensorFlowFixtures.graph(name)
        let data = TensorFlowCondFixtures.path(name, "calibration.npy")
        let input = try NumPyFile.read(TensorFlowCondFixtures.path(name, "input.npy"))
        let reference = try NumPyFile.read(TensorFlowCondFixtures.path(name, "recalibrated_output.npy"))
        let recalibrate = try CLIRunner.run(["recalibrate", graph, "--data", data, "-o", out("recalibrated.pb")])
        XCTAssertEqual(recalibrate.status, 0, recalibrate.stderr)
        XCTAssertTrue(recalibrate.stdout.contains("6 BatchNorm layer(s) recalibrated on 16 sample(s)"), recalibrate.stdout)
        let written = try Checkpoint.read(out("recalibrated.pb"))
        assertBatchNormStatistics(written, try TensorFlowCondFixtures.recalibratedStatistics(of: written), tolerance: 1e-5, name)
        assertClose(try ModelRunner(model: written).run([input])[0], reference, tolerance: 1e-5, "recalibrated.pb")

        let folded = try CLIRunner.run(["recalibrate", graph, "--data", data, "--fold", "-o", out("folded.pb")])
        XCTAssertEqual(folded.status, 0, folded.stdout + folded.stderr)
        XCTAssertTrue(folded.stdout.contains(": PASS"), folded.stdout)
        assertClose(try ModelRunner(model: try Checkpoint.read(out("folded.pb"))).run([input])[0], reference, tolerance: 1e-5, "folded.pb")
    }

    /// A tf.cond on a flag whose branches run one inference-mode BN's variables on different convs:
    /// exit 1 naming the file, both BNs and their branches, and nothing written.
    func testRecalibrateRefusesStatisticsReadByTwoBranches() throws {
        let name = TensorFlowCondFixtures.sharedBatchNorm
        let graph = TensorFlowFixtures.graph(name)
        let run = try CLIRunner.run(["recalibrate", graph, "--data", TensorFlowCondFixtures.path(name, "input.npy"), "-o", out("x.pb")])
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssertTrue(run.stderr.contains("\(graph): BatchNorm 'pick/bn_b' normalizes by the same moving statistics as 'pick/bn_a', "
                                          + "but no model output depends on it as the file is read"), run.stderr)
        XCTAssertTrue(run.stderr.contains("'pick/bn_b': true branch of tf.cond 'pick', not taken: its predicate is false, "
                                          + "the default of PlaceholderWithDefault 'use_b' (it runs only when true is fed)"), run.stderr)
        XCTAssertTrue(run.stderr.contains("'pick/bn_a': false branch of tf.cond 'pick', taken"), run.stderr)
        XCTAssertFalse(run.stderr.contains("called more than once"), run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("x.pb")))
    }
}
