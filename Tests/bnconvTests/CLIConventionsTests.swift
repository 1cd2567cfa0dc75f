import Foundation
import XCTest
@testable import BNConvTestSupport

/// The conventions every subcommand follows, through the built binary: `--help` with a worked
/// example and the shared output flags; `--quiet` prints only the essential result, `--verbose`
/// adds detail, both together are a usage error (exit 2); errors say what to do next.
final class CLIConventionsTests: XCTestCase {
    private static let subcommands = ["inspect", "fold", "convert", "verify", "run", "recalibrate"]
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras/mini_resnet")
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-conventions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["keras2.h5", "input.npy", "calib.npy"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func run(_ args: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(args, in: dir, environment: ["NO_COLOR": "1"])
    }

    private func assertSucceeded(_ result: CLIRunner.Result, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr, "", "nothing on stderr", file: file, line: line)
    }

    func testEveryHelpHasAWorkedExampleAndTheSharedFlags() throws {
        for command in CLIConventionsTests.subcommands {
            let help = try run([command, "--help"])
            XCTAssertEqual(help.status, 0, "\(command) --help")
            XCTAssertTrue(help.stdout.contains("Example"), "\(command) --help has no example")
            XCTAssertTrue(help.stdout.contains("  bnconv \(command) "), "\(command) --help example runs \(command)")
            for flag in ["--json", "--quiet", "--verbose"] {
                XCTAssertTrue(help.stdout.contains(flag), "\(command) --help lists \(flag)")
            }
        }
        let root = try run(["--help"])
        XCTAssertTrue(root.stdout.contains("Exit status: 0 success, 1 error"), root.stdout)
        XCTAssertTrue(root.stdout.contains("--quiet (only"), root.stdout)
    }

    func testQuietAndVerboseTogetherAreAUsageError() throws {
        let commands: [[String]] = [["inspect", "keras2.h5"], ["fold", "keras2.h5"], ["convert", "keras2.h5", "-o", "m.onnx"],
                                    ["verify", "keras2.h5", "keras2.h5"], ["run", "keras2.h5"],
                                    ["recalibrate", "keras2.h5", "--data", "calib.npy"]]
        for args in commands {
            let result = try run(args + ["--quiet", "--verbose"])
            XCTAssertEqual(result.status, 2, "\(args[0]): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("--quiet and --verbose cannot be used together"), result.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["calib.npy", "input.npy", "keras2.h5"],
                       "a usage error writes nothing")
    }

    func testInspectQuietIsOneLineAndVerboseListsEveryWeight() throws {
        let normal = try run(["inspect", "keras2.h5"])
        let quiet = try run(["inspect", "keras2.h5", "-q"])
        let verbose = try run(["inspect", "keras2.h5", "--verbose"])
        for result in [normal, quiet, verbose] { assertSucceeded(result) }
        XCTAssertEqual(quiet.stdout, "keras2.h5: Keras 2 HDF5 model (.h5), 24 layers, 6 BatchNorm(s), 6 foldable\n")
        XCTAssertTrue(verbose.stdout.hasPrefix(normal.stdout.trimmingCharacters(in: .newlines)), "verbose adds to the normal text")
        XCTAssertFalse(normal.stdout.contains("Weights ("), normal.stdout)
        XCTAssertTrue(verbose.stdout.contains("Weights ("), verbose.stdout)
        XCTAssertTrue(verbose.stdout.contains("kernel           [16, 10] float32 io  at /model_weights/predictions/predictions/kernel:0"),
                      verbose.stdout)
    }

    func testRunQuietPrintsOnlyTheResultAndVerboseTheInputs() throws {
        let normal = try run(["run", "keras2.h5", "--input", "input.npy"])
        let quiet = try run(["run", "keras2.h5", "--input", "input.npy", "-q"])
        let verbose = try run(["run", "keras2.h5", "--input", "input.npy", "-v"])
        for result in [normal, quiet, verbose] { assertSucceeded(result) }
        XCTAssertTrue(normal.stdout.hasPrefix("predictions: shape [2, 10] "), normal.stdout)
        XCTAssertEqual(quiet.stdout, normal.stdout, "the outputs are the result")
        XCTAssertTrue(verbose.stdout.contains("input input: shape [2, 16, 16, 3] float32 (input.npy)"), verbose.stdout)
        XCTAssertTrue(verbose.stdout.contains("first run: "), verbose.stdout)
        XCTAssertTrue(verbose.stdout.hasSuffix(normal.stdout), verbose.stdout)

        let saved = try run(["run", "keras2.h5", "-o", "y.npy"])
        assertSucceeded(saved)
        XCTAssertEqual(saved.stdout, "wrote y.npy: shape [1, 10] float32\n")
        let savedQuietly = try run(["run", "keras2.h5", "-o", "y2.npy", "--quiet"])
        assertSucceeded(savedQuietly)
        XCTAssertEqual(savedQuietly.stdout, "", "a written file says nothing with --quiet")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("y2.npy").path))

        let timed = try run(["run", "keras2.h5", "--time", "--runs", "2", "--profile", "-q"])
        assertSucceeded(timed)
        XCTAssertEqual(timed.stdout.split(separator: "\n").count, 1, "--quiet --time: the time line only: \(timed.stdout)")
        XCTAssertTrue(timed.stdout.hasPrefix("time: batch 1, 2 runs"), timed.stdout)
    }

    func testRunJSON() throws {
        let result = try run(["run", "keras2.h5", "--input", "input.npy", "-o", "y.npy", "--json", "--time", "--runs", "1"])
        assertSucceeded(result)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["command"] as? String, "run")
        XCTAssertEqual(object["format"] as? String, "keras2-h5")
        let inputs = try XCTUnwrap(object["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.count, 1)
        XCTAssertEqual(inputs[0]["shape"] as? [Int], [2, 16, 16, 3])
        XCTAssertEqual(inputs[0]["file"] as? String, "input.npy")
        let outputs = try XCTUnwrap(object["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.count, 1)
        XCTAssertEqual(outputs[0]["name"] as? String, "predictions")
        XCTAssertEqual(outputs[0]["shape"] as? [Int], [2, 10])
        XCTAssertEqual(outputs[0]["file"] as? String, "y.npy")
        // Softmax outputs: each row sums to one, so the mean over a [2, 10] batch is 0.1.
        XCTAssertEqual(try XCTUnwrap(outputs[0]["mean"] as? Double), 0.1, accuracy: 1e-6)
        let timing = try XCTUnwrap(object["timing"] as? [String: Any])
        XCTAssertEqual(timing["runs"] as? Int, 1)
        XCTAssertNotNil(timing["medianMilliseconds"] as? Double)
    }

    func testQuietRewritesSayNothingAndVerboseAddsLayers() throws {
        let fold = try run(["fold", "keras2.h5", "-q"])
        assertSucceeded(fold)
        XCTAssertEqual(fold.stdout, "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("keras2.folded.h5").path))
        let verify = try run(["verify", "keras2.h5", "keras2.folded.h5", "--quiet"])
        assertSucceeded(verify)
        XCTAssertEqual(verify.stdout, "")
        let convert = try run(["convert", "keras2.h5", "-o", "m.onnx", "-q"])
        assertSucceeded(convert)
        XCTAssertEqual(convert.stdout, "")
        let recalibrate = try run(["recalibrate", "keras2.h5", "--data", "calib.npy", "-q"])
        assertSucceeded(recalibrate)
        XCTAssertEqual(recalibrate.stdout, "")

        let normal = try run(["verify", "keras2.h5", "keras2.folded.h5"])
        let verbose = try run(["verify", "keras2.h5", "keras2.folded.h5", "-v"])
        XCTAssertFalse(normal.stdout.contains("  layer "), normal.stdout)
        XCTAssertTrue(verbose.stdout.contains("  layer "), verbose.stdout)
    }

    func testErrorsSayWhatToDoNext() throws {
        let keep = try run(["fold", "keras2.h5", "--keep", "no_such_bn"])
        XCTAssertEqual(keep.status, 2, keep.stderr)
        XCTAssertTrue(keep.stderr.contains("(bnconv inspect keras2.h5 lists its BatchNorm layers)"), keep.stderr)

        let shape = try run(["run", "keras2.h5", "--input", "calib.npy", "--input", "calib.npy"])
        XCTAssertEqual(shape.status, 1, shape.stderr)
        XCTAssertEqual(shape.stderr.split(separator: "\n").count, 1, shape.stderr)
        XCTAssertTrue(shape.stderr.hasPrefix("bnconv: error: keras2.h5: the model takes 1 input(s), got 2; give --input once per model input"),
                      shape.stderr)

        let overwrite = try run(["convert", "keras2.h5", "-o", "keras2.h5", "--layout", "nchw"])
        XCTAssertEqual(overwrite.status, 2, overwrite.stderr)
        XCTAssertTrue(overwrite.stderr.contains("choose another -o"), overwrite.stderr)

        let profile = try run(["run", "keras2.h5", "--profile"])
        XCTAssertEqual(profile.status, 2, profile.stderr)
        XCTAssertTrue(profile.stderr.contains("--profile goes with --time"), profile.stderr)
    }

    func testForcedConvertWarnsLikeFold() throws {
        // A tolerance of 0 fails a fold's verification (the folded weights round differently); --force writes it anyway.
        let forced = try run(["convert", "keras2.h5", "-o", "m.onnx", "--fold", "--tolerance", "0", "--force", "-q"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(forced.stderr.contains("warning: verification failed"), forced.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.onnx").path))
        let refused = try run(["convert", "keras2.h5", "-o", "n.onnx", "--fold", "--tolerance", "0", "-q"])
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("n.onnx").path))
    }
}
