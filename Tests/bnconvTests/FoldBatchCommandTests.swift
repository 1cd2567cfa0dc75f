import Foundation
import XCTest
@testable import BNConvTestSupport

/// `bnconv fold` with several inputs or a directory, through the built binary: every model file
/// folded in a process of its own, one table or JSON list, the worst status, outputs beside the
/// inputs or in `-o DIR`, collisions refused before anything runs, one bad file (even one whose
/// process is killed) costing only its own result.
final class FoldBatchCommandTests: XCTestCase {
    private var dir: URL!
    private let files = FileManager.default

    /// zoo/: a Keras .h5, an ONNX model and a GraphDef from the fixtures, a truncated .h5, and
    /// what a listing skips: a text file, an earlier output, a subdirectory's model.
    override func setUpWithError() throws {
        dir = try FixturePaths.scratchDirectory()
        for (name, fixture) in [("mini_resnet.h5", "keras/mini_resnet/keras2.h5"), ("conv_bn.onnx", "onnx/conv_bn/model.onnx"),
                                ("conv_bias_bn.pb", "tensorflow/conv_bias_bn/graph.pb"), ("old.folded.h5", "keras/mini_resnet/keras2.h5"),
                                ("sub/deep.onnx", "onnx/conv_bn/model.onnx")] {
            try copy(fixture, to: "zoo/" + name)
        }
        let h5 = try Data(contentsOf: FixturePaths.url("keras/mini_resnet/keras2.h5"))
        try h5.prefix(3000).write(to: dir.appendingPathComponent("zoo/broken.h5"))
        try Data("notes".utf8).write(to: dir.appendingPathComponent("zoo/README.txt"))
    }

    override func tearDownWithError() throws { try? files.removeItem(at: dir) }

    private func copy(_ fixture: String, to name: String) throws {
        let target = dir.appendingPathComponent(name)
        try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try files.copyItem(at: FixturePaths.url(fixture), to: target)
    }

    private func run(_ args: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(args, in: dir, environment: ["NO_COLOR": "1"])
    }

    private func list(_ folder: String) throws -> [String] {
        try files.contentsOfDirectory(atPath: dir.appendingPathComponent(folder).path).sorted()
    }

    private func jsonList(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], text, file: file, line: line)
    }

    /// The table row of `file`, split at runs of spaces: file, folded, kept, error, time, "s", status...
    private func row(_ stdout: String, _ file: String) throws -> [String] {
        let line = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix(file + " ") }, "no row for \(file) in\n\(stdout)")
        return line.split(separator: " ").map(String.init)
    }

    func testADirectoryFoldsEachModelFileAndExitsWithTheWorstStatus() throws {
        let result = try run(["fold", "zoo"])
        XCTAssertEqual(result.status, 1, "a file failed: " + result.stdout + result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first?.split(separator: " ").map(String.init), ["file", "folded", "kept", "max", "rel", "error", "time", "status"])
        XCTAssertEqual(lines.dropFirst().prefix(4).map { String($0.prefix { $0 != " " }) },
                       ["zoo/broken.h5", "zoo/conv_bias_bn.pb", "zoo/conv_bn.onnx", "zoo/mini_resnet.h5"], "sorted by name, nothing else listed")
        XCTAssertEqual(lines.last, "4 file(s): 3 ok, 1 error; wrote 3 beside the inputs")

        let mini = try row(result.stdout, "zoo/mini_resnet.h5")
        XCTAssertEqual(Array(mini[1...2]), ["6", "0"], "6 folded, 0 kept")
        XCTAssertLessThan(try XCTUnwrap(Double(mini[3])), 1e-5, "the verification's max rel error")
        XCTAssertEqual(mini.last, "ok")
        XCTAssertEqual(Array(try row(result.stdout, "zoo/conv_bn.onnx")[1...2]), ["1", "0"])
        XCTAssertEqual(try row(result.stdout, "zoo/conv_bias_bn.pb").last, "ok")
        let broken = try row(result.stdout, "zoo/broken.h5")
        XCTAssertEqual(Array(broken[1...3]), ["-", "-", "failed"])
        XCTAssertTrue(broken.joined(separator: " ").contains("error: zoo/broken.h5: cannot open the file as HDF5"), "\(broken)")
        XCTAssertTrue(result.stderr.contains("bnconv: error: zoo/broken.h5: cannot open the file as HDF5"), result.stderr)

        XCTAssertEqual(try list("zoo"), ["README.txt", "broken.h5", "conv_bias_bn.folded.pb", "conv_bias_bn.pb", "conv_bn.folded.onnx",
                                         "conv_bn.onnx", "mini_resnet.folded.h5", "mini_resnet.h5", "old.folded.h5", "sub"])
        XCTAssertEqual(try list("zoo/sub"), ["deep.onnx"], "subdirectories are not entered")
        for (input, output) in [("mini_resnet.h5", "mini_resnet.folded.h5"), ("conv_bn.onnx", "conv_bn.folded.onnx"),
                                ("conv_bias_bn.pb", "conv_bias_bn.folded.pb")] {
            let verify = try run(["verify", "zoo/" + input, "zoo/" + output])
            XCTAssertEqual(verify.status, 0, "\(output) does not verify: \(verify.stdout) \(verify.stderr)")
        }
        // Each written file is what the single-file fold writes (HDF5 object headers carry times,
        // so the .h5 is compared by its numbers, to the bit).
        for (input, output) in [("conv_bn.onnx", "conv_bn.folded.onnx"), ("conv_bias_bn.pb", "conv_bias_bn.folded.pb")] {
            XCTAssertEqual(try run(["fold", "zoo/" + input, "-o", "single-" + output, "-q"]).status, 0)
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("single-" + output)),
                           try Data(contentsOf: dir.appendingPathComponent("zoo/" + output)), output)
        }
        XCTAssertEqual(try run(["fold", "zoo/mini_resnet.h5", "-o", "single.h5", "-q"]).status, 0)
        let same = try run(["verify", "single.h5", "zoo/mini_resnet.folded.h5", "--tolerance", "0"])
        XCTAssertTrue(same.stdout.contains("max abs error 0,"), same.stdout)

        let again = try run(["fold", "zoo", "--no-verify"])
        XCTAssertEqual(again.stdout.split(separator: "\n").count, 6, "the outputs of the first run are not folded again: \(again.stdout)")
        XCTAssertEqual(try row(again.stdout, "zoo/conv_bn.onnx")[3...4], ["not", "verified"])
    }

    func testJSONIsOneListOfTheSingleFileObjectsWithStatus() throws {
        let result = try run(["fold", "zoo/mini_resnet.h5", "zoo/broken.h5", "zoo/conv_bn.onnx", "--json"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let entries = try jsonList(result.stdout)
        XCTAssertEqual(entries.map { $0["file"] as? String }, ["zoo/mini_resnet.h5", "zoo/broken.h5", "zoo/conv_bn.onnx"], "the order given")
        XCTAssertEqual(entries.map { $0["status"] as? String }, ["ok", "error", "ok"])
        XCTAssertEqual(entries.map { $0["exitStatus"] as? Int }, [0, 1, 0])
        XCTAssertEqual(entries[2]["output"] as? String, "zoo/conv_bn.folded.onnx")
        XCTAssertNil(entries[0]["error"])

        let bad = entries[1]
        XCTAssertEqual(bad["command"] as? String, "fold")
        XCTAssertEqual(bad["input"] as? String, "zoo/broken.h5")
        XCTAssertNil(bad["output"], "nothing written")
        XCTAssertTrue((bad["error"] as? String ?? "").hasPrefix("zoo/broken.h5: cannot open the file as HDF5"), "\(bad)")

        // A good file's object is the single-file `fold --json` object (its time and output path
        // aside) plus the batch's fields.
        let single = try run(["fold", "zoo/mini_resnet.h5", "--json", "-o", "single.h5"])
        var alone = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(single.stdout.utf8)) as? [String: Any])
        var batched = entries[0]
        XCTAssertEqual(Set(batched.keys).subtracting(alone.keys), ["file", "status", "exitStatus", "wallSeconds"])
        for key in ["seconds", "output"] { alone[key] = nil; batched[key] = nil }
        for key in ["file", "status", "exitStatus", "wallSeconds"] { batched[key] = nil }
        XCTAssertEqual(NSDictionary(dictionary: batched), NSDictionary(dictionary: alone))
    }

    func testTwoJobsGiveTheSameResults() throws {
        let one = try run(["fold", "zoo", "--json", "-o", "one"])
        let two = try run(["fold", "zoo", "--json", "-o", "two", "--jobs", "2"])
        XCTAssertEqual(one.status, 1, one.stderr)
        XCTAssertEqual(two.status, one.status, two.stderr)
        let a = try jsonList(one.stdout), b = try jsonList(two.stdout)
        XCTAssertEqual(a.count, 4)
        func facts(_ e: [String: Any], _ folder: String) -> String {
            let worst = (e["verification"] as? [String: Any])?["worst"] as? [String: Any]
            let output = (e["output"] as? String)?.replacingOccurrences(of: folder + "/", with: "")
            return "\(e["file"]!) \(e["status"]!) \(e["exitStatus"]!) \(e["folded"] ?? "-") \(output ?? "-") \(worst?["maxRel"] ?? "-")"
        }
        XCTAssertEqual(a.map { facts($0, "one") }, b.map { facts($0, "two") })
        XCTAssertEqual(try list("one"), ["conv_bias_bn.folded.pb", "conv_bn.folded.onnx", "mini_resnet.folded.h5"])
        XCTAssertEqual(try list("two"), try list("one"))
        for name in ["conv_bias_bn.folded.pb", "conv_bn.folded.onnx"] {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("one/" + name)), try Data(contentsOf: dir.appendingPathComponent("two/" + name)))
        }
    }

    func testOutputDirectoryIsMadeAndHoldsTheResultsUnderTheirDefaultNames() throws {
        let before = try list("zoo")
        let result = try run(["fold", "zoo/mini_resnet.h5", "zoo/conv_bn.onnx", "-o", "out/nested"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").last, "2 file(s): 2 ok; wrote 2 into out/nested")
        XCTAssertEqual(try list("out/nested"), ["conv_bn.folded.onnx", "mini_resnet.folded.h5"])
        XCTAssertEqual(try list("zoo"), before, "nothing written beside the inputs")
        let verify = try run(["verify", "zoo/mini_resnet.h5", "out/nested/mini_resnet.folded.h5"])
        XCTAssertEqual(verify.status, 0, verify.stdout)
    }

    func testACollisionIsRefusedWithNothingWritten() throws {
        try copy("onnx/conv_bn/model.onnx", to: "other/conv_bn.onnx")
        let zoo = try list("zoo"), other = try list("other"), top = try list(".")
        let clash = try run(["fold", "zoo", "other", "-o", "out"])
        XCTAssertEqual(clash.status, 2, clash.stderr)
        XCTAssertTrue(clash.stderr.contains("zoo/conv_bn.onnx and other/conv_bn.onnx would both be written to out/conv_bn.folded.onnx"), clash.stderr)
        XCTAssertEqual(clash.stdout, "")
        let twice = try run(["fold", "zoo/conv_bn.onnx", "zoo", "--in-place"])
        XCTAssertEqual(twice.status, 2, twice.stderr)
        XCTAssertTrue(twice.stderr.contains("zoo/conv_bn.onnx and zoo/conv_bn.onnx are the same file"), twice.stderr)
        XCTAssertEqual(try list("zoo"), zoo)
        XCTAssertEqual(try list("other"), other)
        XCTAssertEqual(try list("."), top, "no output directory made")
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("zoo/conv_bn.onnx")), try Data(contentsOf: FixturePaths.url("onnx/conv_bn/model.onnx")))
    }

    func testEveryOptionAppliesToEachFile() throws {
        // A tolerance nothing meets: every file fails verification, nothing is written, status 3
        // (the worst, above the broken file's 1).
        let strict = try run(["fold", "zoo/mini_resnet.h5", "zoo/broken.h5", "zoo/conv_bn.onnx", "--tolerance", "0", "-o", "strict"])
        XCTAssertEqual(strict.status, 3, strict.stderr)
        XCTAssertEqual(try row(strict.stdout, "zoo/mini_resnet.h5").suffix(4), ["verification", "failed", "(tolerance", "0)"])
        XCTAssertEqual(try row(strict.stdout, "zoo/broken.h5")[6], "error:")
        XCTAssertEqual(try list("strict"), [], "nothing written")
        XCTAssertTrue(strict.stderr.contains("bnconv: zoo/conv_bn.onnx: verification failed"), strict.stderr)

        try copy("keras/mini_resnet/keras2.h5", to: "twins/a.h5")
        try copy("keras/mini_resnet/keras2.h5", to: "twins/b.h5")
        let kept = try run(["fold", "twins", "--keep", "stem_bn", "--no-verify", "--json", "-o", "kept"])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        let entries = try jsonList(kept.stdout)
        XCTAssertEqual(entries.map { $0["folded"] as? Int }, [5, 5])
        XCTAssertEqual(entries.map { $0["verification"] == nil }, [true, true])
        XCTAssertEqual(try list("kept"), ["a.folded.h5", "b.folded.h5"])

        let inPlace = try run(["fold", "twins", "--in-place", "-q"])
        XCTAssertEqual(inPlace.status, 0, inPlace.stderr)
        XCTAssertEqual(inPlace.stdout, "", "--quiet prints no table")
        XCTAssertEqual(try list("twins"), ["a.h5", "b.h5"])
        for name in ["a.h5", "b.h5"] {
            let verify = try run(["verify", FixturePaths.url("keras/mini_resnet/keras2.h5").path, "twins/" + name])
            XCTAssertEqual(verify.status, 0, verify.stdout)
            let inspect = try run(["inspect", "twins/" + name, "-q"])
            XCTAssertTrue(inspect.stdout.contains("0 BatchNorm(s)"), inspect.stdout)
        }
    }

    func testOneInputOptionsAndBadValuesAreRefused() throws {
        for (args, message) in [(["fold", "zoo", "--config", "m.json"], "--config gives the architecture of one weights-only file"),
                                (["fold", "zoo/conv_bn.onnx", "zoo/mini_resnet.h5", "--report", "r.html"], "--report writes the report of one file"),
                                (["fold", "zoo", "-o", "zoo/README.txt"], "zoo/README.txt is not a directory"),
                                (["fold", "zoo", "--jobs", "0"], "--jobs must be at least 1")] {
            let result = try run(args)
            XCTAssertEqual(result.status, 2, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
        XCTAssertFalse(try list("zoo").contains("conv_bn.folded.onnx"), "nothing ran")
    }

    func testASingleInputPrintsWhatItAlwaysDid() throws {
        let text = try run(["fold", "zoo/conv_bn.onnx"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.hasPrefix("zoo/conv_bn.onnx: ONNX model (.onnx), 1 BatchNorm layer(s), 1 folded\n"), text.stdout)
        XCTAssertFalse(text.stdout.contains("file(s)"), "no table")
        let json = try run(["fold", "zoo/conv_bn.onnx", "--json", "--jobs", "2"])
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "one object, not a list")
    }

    /// A file whose process dies by a signal is reported as crashed; the others are still folded.
    /// The process is held on a FIFO (read with `--allow-special`, it blocks in `open`) and killed
    /// by its PID, found in /proc by the FIFO's unique path.
    func testAFileWhoseProcessIsKilledIsReportedAndTheOthersAreFolded() throws {
        #if os(Linux)
        let batch = dir.appendingPathComponent("held")
        try files.createDirectory(at: batch, withIntermediateDirectories: true)
        let fifo = batch.appendingPathComponent("a_held.h5").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try copy("onnx/conv_bn/model.onnx", to: "held/b.onnx")
        final class Box: @unchecked Sendable { var result: CLIRunner.Result? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            box.result = try? CLIRunner.run(["fold", batch.path, "--allow-special", "--json"], timeout: 120,
                                            environment: ["BNCONV_READ_TIMEOUT": "100"])
            done.signal()
        }
        var killed = false
        for _ in 0..<600 where !killed {
            for entry in (try? files.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(entry), let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")) else { continue }
                let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if args.contains(fifo) && args.contains("fold") {
                    kill(pid, SIGKILL)
                    killed = true
                }
            }
            if !killed { usleep(50_000) }
        }
        XCTAssertTrue(killed, "found the process folding the FIFO")
        done.wait()
        let result = try XCTUnwrap(box.result)
        XCTAssertEqual(result.status, 1, result.stderr)
        let entries = try jsonList(result.stdout)
        XCTAssertEqual(entries.map { $0["status"] as? String }, ["crashed", "ok"])
        XCTAssertEqual(entries[0]["signal"] as? Int, Int(SIGKILL))
        XCTAssertTrue((entries[0]["error"] as? String ?? "").hasPrefix("its process was ended by signal 9"), "\(entries[0])")
        XCTAssertTrue(result.stderr.contains("bnconv: error: \(fifo): its process was ended by signal 9"), result.stderr)
        XCTAssertTrue(files.fileExists(atPath: batch.appendingPathComponent("b.folded.onnx").path))
        #else
        throw XCTSkip("finds the child process through /proc")
        #endif
    }
}
