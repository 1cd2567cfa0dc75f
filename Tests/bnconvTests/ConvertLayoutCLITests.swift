@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// `bnconv convert x.pb --layout nchw|nhwc` on the GraphDefs of Tests/Fixtures/tensorflow_layout:
/// verified, every conversion passes or is refused naming the node; with `--no-verify` nothing is
/// written that computes something else than the original: every file written reads back as a
/// model that is the original up to transposes (``LayoutConversionCheck``: every conv's input
/// channels match its kernel and the original's, shape inference agrees at every node, every
/// op that reads axes reads the original's tensors), and runs like TensorFlow through the
/// permutations the command reports.
final class ConvertLayoutCLITests: XCTestCase {
    /// Cases refused with the words of the reason.
    private let refused: [String: [String]] = [
        "channel_softmax": ["channel_softmax.pb: Softmax: TensorFlow's Softmax works on the last axis only"],
    ]
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = try FixturePaths.scratchDirectory()
        addTeardownBlock { [scratch] in try? FileManager.default.removeItem(at: scratch!) }
    }

    /// (case, folder, the layout to convert to).
    private func cases() throws -> [(name: String, folder: URL, target: String)] {
        let root = FixturePaths.url("tensorflow_layout")
        return try FileManager.default.contentsOfDirectory(atPath: root.path).sorted().compactMap { name in
            let folder = root.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("facts.json").path),
                  let facts = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let layout = facts["layout"] as? String else { return nil }
            return (name, folder, layout == "nchw" ? "nhwc" : "nchw")
        }
    }

    /// For a case the layout change must refuse (``refused``): asserts exit 1, an error naming
    /// each of its words and no file at `out`, and returns true; false for any other case.
    private func assertRefused(_ result: CLIRunner.Result, _ name: String, _ out: String,
                               file: StaticString = #filePath, line: UInt = #line) -> Bool {
        guard let words = refused[name] else { return false }
        XCTAssertEqual(result.status, 1, "\(name): \(result.stderr)", file: file, line: line)
        for w in words { XCTAssertTrue(result.stderr.contains(w), "\(name): \(result.stderr)", file: file, line: line) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), name, file: file, line: line)
        return true
    }

    func testVerifiedConversionsPassOrAreRefusedNamingTheNode() throws {
        var passed = 0
        for c in try cases() {
            let out = scratch.appendingPathComponent("\(c.name).pb").path
            let result = try CLIRunner.run(["convert", c.folder.appendingPathComponent("graph.pb").path, "--layout", c.target, "-o", out])
            if assertRefused(result, c.name, out) { continue }
            XCTAssertEqual(result.status, 0, "\(c.name): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("PASS"), "\(c.name): \(result.stdout)")
            passed += 1
        }
        XCTAssertGreaterThanOrEqual(passed, 12)
    }

    func testNoVerifyWritesOnlyFilesThatComputeTheOriginal() throws {
        var written = 0
        for c in try cases() {
            let source = c.folder.appendingPathComponent("graph.pb").path
            let out = scratch.appendingPathComponent("\(c.name).pb").path
            let result = try CLIRunner.run(["convert", source, "--layout", c.target, "-o", out, "--no-verify", "--json"])
            if assertRefused(result, c.name, out) { continue }
            XCTAssertEqual(result.status, 0, "\(c.name): \(result.stderr)")
            let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], c.name)
            let inputPerm = (summary["inputPermutations"] as? [Any])?.first as? [Int]
            let outputPerm = (summary["outputPermutations"] as? [Any])?.first as? [Int]
            // Structure: the file is the original up to transposes, node for node.
            let original = try Checkpoint.read(source)
            let reread = try Checkpoint.read(out)
            let reported = LayoutBoundary(inputs: [inputPerm], outputs: [outputPerm])
            XCTAssertNoThrow(try LayoutConversionCheck(original: original, converted: reread, boundary: reported).verify(), c.name)
            XCTAssertEqual(LayoutBoundary(source: original, converted: reread), reported, "\(c.name): the file declares what was reported")
            // Numbers: TensorFlow's recorded output, through the reported permutations.
            let input = try NumPyFile.read(c.folder.appendingPathComponent("input.npy").path)
            let output = try XCTUnwrap(try ModelRunner(model: reread).run([try inputPerm.map { try input.transposed($0) } ?? input]).first)
            let back = try outputPerm.map { try output.transposed(LayoutBoundary.inverse($0)) } ?? output
            assertClose(back, try NumPyFile.read(c.folder.appendingPathComponent("output.npy").path), tolerance: 1e-5, c.name)
            written += 1
        }
        XCTAssertGreaterThanOrEqual(written, 12)
    }
}
