@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// `bnconv fold` and `bnconv verify` through the built binary: outputs, refusals, exit statuses.
final class FoldCommandTests: XCTestCase {
    private var dir: URL!
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bnconv-fold-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, source) in [("mini_resnet.h5", "mini_resnet/keras2.h5"), ("conv_relu_bn.h5", "conv_relu_bn/keras2.h5")] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(source), to: dir.appendingPathComponent(name))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

    func testFoldWritesBesideTheInputAndLeavesItUntouched() throws {
        let input = dir.appendingPathComponent("mini_resnet.h5")
        let before = try Data(contentsOf: input)
        let result = try CLIRunner.run(["fold", "mini_resnet.h5"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("6 BatchNorm layer(s), 6 folded"), result.stdout)
        XCTAssertTrue(result.stdout.contains("PASS"))
        XCTAssertEqual(try Data(contentsOf: input), before, "the input changed")
        XCTAssertEqual(try files(), ["conv_relu_bn.h5", "mini_resnet.folded.h5", "mini_resnet.h5"])

        let verify = try CLIRunner.run(["verify", "mini_resnet.h5", "mini_resnet.folded.h5", "--json"], in: dir)
        XCTAssertEqual(verify.status, 0, verify.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["passed"] as? Bool, true)
    }

    /// Each fold's own check is printed with `--verbose` (its error against the float64 reference,
    /// and the original layers' own float32 error there) and carried in `--json`.
    func testFoldPrintsEachFoldsCheckAgainstTheFloat64Reference() throws {
        let verbose = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "v.h5", "--verbose"], in: dir)
        XCTAssertEqual(verbose.status, 0, verbose.stderr)
        let lines = verbose.stdout.split(separator: "\n").filter { $0.contains("checked on its own against a float64 reference") }
        XCTAssertEqual(lines.count, 6, verbose.stdout)
        XCTAssertTrue(lines.allSatisfy { $0.contains("(the original layers in float32: ") }, verbose.stdout)
        let json = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "j.h5", "--json"], in: dir)
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let checks = try XCTUnwrap((object["verification"] as? [String: Any])?["foldChecks"] as? [[String: Any]])
        XCTAssertEqual(checks.count, 6)
        for check in checks {
            let error = try XCTUnwrap(check["referenceError"] as? [String: Any], "\(check)")
            XCTAssertLessThan(try XCTUnwrap(error["maxRel"] as? Double), 1e-5)
            XCTAssertNotNil(check["noiseFloor"] as? [String: Any], "\(check)")
            XCTAssertNil(check["referenceSkipped"], "\(check)")
        }
    }

    /// `--no-verify` reads the weights deferred and streams the fold into the file; the result is
    /// the file the verified fold writes, to the bit.
    func testNoVerifyWritesWhatTheVerifiedFoldWrites() throws {
        let verified = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "verified.h5"], in: dir)
        XCTAssertEqual(verified.status, 0, verified.stderr)
        let fast = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "fast.h5", "--no-verify"], in: dir)
        XCTAssertEqual(fast.status, 0, fast.stderr)
        XCTAssertTrue(fast.stdout.contains("6 BatchNorm layer(s), 6 folded"), fast.stdout)
        XCTAssertFalse(fast.stdout.contains("PASS"), "nothing verified")
        let same = try CLIRunner.run(["verify", "verified.h5", "fast.h5", "--tolerance", "0"], in: dir)
        XCTAssertEqual(same.status, 0, same.stdout + same.stderr)
        XCTAssertTrue(same.stdout.contains("max abs error 0"), same.stdout)
        // Every weight left in the file (BNCONV_DEFER_BYTES=0): the folded kernels are scaled from
        // the mapping and written beside HDF5 (direct I/O), checked for NaN as they are.
        let deferred = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "deferred.h5", "--no-verify"], in: dir,
                                         environment: ["BNCONV_DEFER_BYTES": "0"])
        XCTAssertEqual(deferred.status, 0, deferred.stderr)
        XCTAssertTrue(deferred.stdout.contains("6 BatchNorm layer(s), 6 folded"), deferred.stdout)
        let identical = try CLIRunner.run(["verify", "verified.h5", "deferred.h5", "--tolerance", "0"], in: dir)
        XCTAssertEqual(identical.status, 0, identical.stdout + identical.stderr)
        XCTAssertTrue(identical.stdout.contains("max abs error 0"), identical.stdout)
        XCTAssertEqual(try files().filter { $0.hasSuffix(".tmp") }, [], "no temporary file left")
    }

    /// Without verification a folded kernel is checked for NaN when it is written; one that has
    /// some makes the fold start over with the check first: the BN is kept and the reason is the
    /// verified fold's.
    func testNoVerifyPlansAgainWhenAFoldedKernelHoldsNaN() throws {
        var model = try Checkpoint.read(fixtures.appendingPathComponent("conv2d_bias_bn/keras2.h5").path)
        let index = try XCTUnwrap(model.nodes.firstIndex { $0.weight(.kernel) != nil })
        var kernel = try XCTUnwrap(model.nodes[index].weight(.kernel))
        var values = kernel.tensor.floats()
        values[5] = .nan
        kernel.tensor = Tensor(shape: kernel.tensor.shape, floats: values)
        kernel.isModified = true
        model.nodes[index].setWeight(kernel)
        try Checkpoint.write(model, to: dir.appendingPathComponent("nan.h5").path)

        let fast = try CLIRunner.run(["fold", "nan.h5", "-o", "fast.h5", "--no-verify"], in: dir, environment: ["BNCONV_DEFER_BYTES": "0"])
        XCTAssertEqual(fast.status, 0, fast.stderr)
        let reason = "\(model.nodes[index].name)'s kernel holds NaN or infinite values (first at element 5)"
        XCTAssertTrue(fast.stdout.contains("1 BatchNorm layer(s), 0 folded"), fast.stdout)
        XCTAssertTrue(fast.stdout.contains(reason), fast.stdout)
        let verified = try CLIRunner.run(["fold", "nan.h5", "-o", "verified.h5"], in: dir)
        XCTAssertTrue(verified.stdout.contains(reason), verified.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("fast.h5").path),
                       "nothing folded: nothing written")
        XCTAssertEqual(try files().filter { $0.hasSuffix(".tmp") }, [], "no temporary file left")
    }

    /// A Keras 3 `.keras` folded without verification (its STORED weights read in place, the
    /// output streamed into the archive, every weight deferred with BNCONV_DEFER_BYTES=0) holds
    /// what the verified fold writes: the same members, the weights apart from libhdf5's object times.
    func testNoVerifyOfAKerasArchiveWritesWhatTheVerifiedFoldWrites() throws {
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("mini_resnet/keras3.keras"),
                                         to: dir.appendingPathComponent("mini_resnet.keras"))
        let started = HDF5TestSupport.now
        let verified = try CLIRunner.run(["fold", "mini_resnet.keras", "-o", "verified.keras"], in: dir)
        XCTAssertEqual(verified.status, 0, verified.stderr)
        for (name, environment) in [("fast.keras", [:]), ("deferred.keras", ["BNCONV_DEFER_BYTES": "0"])] {
            let fast = try CLIRunner.run(["fold", "mini_resnet.keras", "-o", name, "--no-verify"], in: dir, environment: environment)
            XCTAssertEqual(fast.status, 0, fast.stderr)
            XCTAssertTrue(fast.stdout.contains("6 BatchNorm layer(s), 6 folded"), fast.stdout)
            let same = try CLIRunner.run(["verify", "verified.keras", name, "--tolerance", "0"], in: dir)
            XCTAssertEqual(same.status, 0, same.stdout + same.stderr)
            XCTAssertTrue(same.stdout.contains("max abs error 0"), same.stdout)
            let times = (started - 1)...(HDF5TestSupport.now + 1)
            let a = try KerasArchiveReader.members(of: dir.appendingPathComponent("verified.keras").path)
            let b = try KerasArchiveReader.members(of: dir.appendingPathComponent(name).path)
            XCTAssertEqual(a.map(\.path), b.map(\.path), name)
            for (x, y) in zip(a, b) {
                XCTAssertEqual(HDF5TestSupport.differencesApartFromTimes(x.data, y.data, times: times), [], "\(name): \(x.path)")
            }
        }
        XCTAssertEqual(try files().filter { $0.hasSuffix(".tmp") }, [], "no temporary file left")
    }

    /// The NaN check made when a `.keras`'s folded kernel is written stops the write and plans
    /// again, as for a `.h5`: the BN is kept and nothing folded, so the input is copied.
    func testNoVerifyOfAKerasArchivePlansAgainWhenAFoldedKernelHoldsNaN() throws {
        var model = try Checkpoint.read(fixtures.appendingPathComponent("conv2d_bias_bn/keras3.keras").path)
        let index = try XCTUnwrap(model.nodes.firstIndex { $0.weight(.kernel) != nil })
        var kernel = try XCTUnwrap(model.nodes[index].weight(.kernel))
        var values = kernel.tensor.floats()
        values[3] = .infinity
        kernel.tensor = Tensor(shape: kernel.tensor.shape, floats: values)
        kernel.isModified = true
        model.nodes[index].setWeight(kernel)
        try Checkpoint.write(model, to: dir.appendingPathComponent("inf.keras").path)

        let fast = try CLIRunner.run(["fold", "inf.keras", "-o", "fast.keras", "--no-verify"], in: dir, environment: ["BNCONV_DEFER_BYTES": "0"])
        XCTAssertEqual(fast.status, 0, fast.stderr)
        XCTAssertTrue(fast.stdout.contains("1 BatchNorm layer(s), 0 folded"), fast.stdout)
        XCTAssertTrue(fast.stdout.contains("\(model.nodes[index].name)'s kernel holds NaN or infinite values (first at element 3)"), fast.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("fast.keras").path),
                       "nothing folded: nothing written")
        XCTAssertEqual(try files().filter { $0.hasSuffix(".tmp") }, [], "no temporary file left")
    }

    /// A stale BN folds as its statistics say, and the fold prints one warning line for it (and
    /// `--json` lists it under `warnings`); a healthy fold has an empty `warnings`.
    func testFoldPrintsBatchNormWarningsAndStillFolds() throws {
        let stale = fixtures.deletingLastPathComponent().appendingPathComponent("diagnostics/stale_moving_statistics/keras2.h5")
        try FileManager.default.copyItem(at: stale, to: dir.appendingPathComponent("stale.h5"))
        let result = try CLIRunner.run(["fold", "stale.h5"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("2 BatchNorm layer(s), 2 folded"), result.stdout)
        let warnings = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  warning [stale-moving-statistics]: ") }
        XCTAssertEqual(warnings.count, 2, result.stdout)
        XCTAssertTrue(warnings[0].contains("bn's moving_mean is 0"), result.stdout)
        XCTAssertTrue(try files().contains("stale.folded.h5"))

        let json = try CLIRunner.run(["fold", "stale.h5", "-o", "stale2.h5", "--json"], in: dir)
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let listed = try XCTUnwrap(object["warnings"] as? [[String: Any]])
        XCTAssertEqual(listed.map { $0["batchNorm"] as? String }, ["bn", "bn2"])
        XCTAssertEqual(Set(listed.compactMap { $0["code"] as? String }), ["stale-moving-statistics"])

        let healthy = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "m.h5", "--json"], in: dir)
        XCTAssertEqual(healthy.status, 0, healthy.stderr)
        let healthyObject = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(healthy.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((healthyObject["warnings"] as? [Any])?.count, 0)
    }

    func testNothingToFoldExitsZeroSaysSoAndWritesNothing() throws {
        let result = try CLIRunner.run(["fold", "conv_relu_bn.h5", "-o", "out.h5"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("kept: a non-linear ReLU"), result.stdout)
        XCTAssertTrue(result.stdout.contains("nothing to fold: every BatchNormalization is kept; nothing was written"), result.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.h5").path))
    }

    /// `--assume-inference` with the switched BN kept: nothing folds, but the model changed, so the
    /// graph is written (its FusedBatchNorm now in inference mode), not copied; verification passes
    /// against the inference-mode original.
    func testAssumedInferenceBatchNormKeptIsWrittenNotCopied() throws {
        let graph = fixtures.deletingLastPathComponent().appendingPathComponent("tensorflow/fused_bn_training_default/graph.pb")
        try FileManager.default.copyItem(at: graph, to: dir.appendingPathComponent("g.pb"))
        let result = try CLIRunner.run(["fold", "g.pb", "-o", "out.pb", "--assume-inference",
                                        "--keep", "conv_bias_bn/bn/FusedBatchNormV3"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("0 folded"), result.stdout)
        XCTAssertTrue(result.stdout.contains("PASS"), result.stdout)
        let original = try Data(contentsOf: dir.appendingPathComponent("g.pb"))
        let written = try Data(contentsOf: dir.appendingPathComponent("out.pb"))
        XCTAssertNotEqual(written, original, "the file was copied unchanged")
        // is_training: false is an AttrValue `b` (field 5) = 0 under the key "is_training".
        XCTAssertNotNil(written.range(of: Data("is_training".utf8) + Data([0x12, 0x02, 0x28, 0x00])))
        XCTAssertEqual(written.count, original.count + "is_training".count + 8)
    }

    func testVerificationFailureExitsThreeAndWritesNothing() throws {
        // A tolerance of zero cannot be met by a float32 fold.
        let result = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "out.h5", "--tolerance", "0"], in: dir)
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("nothing was written"), result.stderr)
        XCTAssertEqual(try files(), ["conv_relu_bn.h5", "mini_resnet.h5"])
        let forced = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "out.h5", "--tolerance", "0", "--force", "-q"], in: dir)
        XCTAssertEqual(forced.status, 0, "--force: written, so the command succeeded")
        XCTAssertTrue(forced.stderr.contains("warning: verification failed"), forced.stderr)
        XCTAssertTrue(try files().contains("out.h5"), "--force writes anyway")
    }

    /// A verification that ends in an error (a random input too large to make) writes nothing:
    /// exit 1 with the advice, no output and no temporary file left.
    func testAVerificationErrorLeavesNothingWritten() throws {
        let result = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "out.h5", "--batch", "100000"], in: dir)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("smaller --batch"), result.stderr)
        XCTAssertEqual(try files(), ["conv_relu_bn.h5", "mini_resnet.h5"])
    }

    func testVerifyOfDifferentModelsExitsThreeAndNamesTheLayer() throws {
        let result = try CLIRunner.run(["verify", "mini_resnet.h5", "conv_relu_bn.h5"], in: dir)
        XCTAssertEqual(result.status, 1, "different interfaces are an error: \(result.stdout) \(result.stderr)")
        XCTAssertTrue(result.stderr.hasPrefix("bnconv: error:"), result.stderr)
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try CLIRunner.run(["fold"], in: dir).status, 2)
        XCTAssertEqual(try CLIRunner.run(["fold", "mini_resnet.h5", "--in-place", "-o", "x.h5"], in: dir).status, 2)
        XCTAssertEqual(try CLIRunner.run(["fold", "mini_resnet.h5", "--report", "r.txt"], in: dir).status, 2)
        XCTAssertEqual(try CLIRunner.run(["fold", "mini_resnet.h5", "--keep", "no_such_layer"], in: dir).status, 2)
        let sameFile = try CLIRunner.run(["fold", "mini_resnet.h5", "-o", "./mini_resnet.h5"], in: dir)
        XCTAssertEqual(sameFile.status, 2, sameFile.stderr)
        XCTAssertTrue(sameFile.stderr.contains("--in-place"), sameFile.stderr)
    }

    func testMissingFileExitsOneNamingIt() throws {
        let result = try CLIRunner.run(["fold", "absent.h5"], in: dir)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1)
        XCTAssertTrue(result.stderr.contains("absent.h5: no such file"), result.stderr)
    }

    func testInPlaceReplacesTheInput() throws {
        let result = try CLIRunner.run(["fold", "mini_resnet.h5", "--in-place", "-q"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try files(), ["conv_relu_bn.h5", "mini_resnet.h5"], "no temporary file left")
        let again = try CLIRunner.run(["inspect", "mini_resnet.h5", "--json"], in: dir)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["batchNorms"] as? [Any])?.count, 0)
    }

    func testHelpCarriesAWorkedExample() throws {
        for command in ["fold", "verify"] {
            let help = try CLIRunner.run([command, "--help"], in: dir)
            XCTAssertEqual(help.status, 0)
            XCTAssertTrue(help.stdout.contains("Example:"), "\(command) --help has no example")
            XCTAssertTrue(help.stdout.contains("--json"), "\(command) --help lists --json")
        }
    }
}
