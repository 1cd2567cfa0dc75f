import BNConv
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The README's "Using the library" example is this function, compiled and run on the shipped
/// example; the test checks the README still shows exactly these lines.
final class ReadmeLibraryExampleTests: XCTestCase {
    // README-EXAMPLE-BEGIN
    func readmeExample() throws {
        let model = try Checkpoint.read("model.h5")              // any supported format
        let folded = try FoldBatchNorm().apply(to: model)       // decisions + rewritten model
        for d in folded.decisions { print(d.batchNorm, d.target ?? "kept: \(d.reason ?? "")") }
        let report = try Verifier().compare(reference: model, candidate: folded.model, foldMap: folded.valueMap)
        if report.passed { try Checkpoint.write(folded.model, to: "model.folded.h5") }
    }
    // README-EXAMPLE-END

    func testReadmeShowsThisExampleAndItRuns() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let body = source.components(separatedBy: "// README-EXAMPLE-BEGIN")[1].components(separatedBy: "// README-EXAMPLE-END")[0]
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("func ") && $0 != "}" }
        let readme = try String(contentsOf: FixturePaths.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md"), encoding: .utf8)
        let block = readme.components(separatedBy: "```swift\n")[1].components(separatedBy: "```")[0]
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
        XCTAssertEqual(block, body)

        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: FixturePaths.url("keras/mini_resnet/keras2.h5"), to: dir.appendingPathComponent("model.h5"))
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir.path), "cd \(dir.path)")
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try readmeExample()
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.folded.h5").path))
    }
}
