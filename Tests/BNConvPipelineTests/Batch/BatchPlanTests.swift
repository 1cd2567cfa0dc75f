import Foundation
import XCTest
@testable import BNConvPipeline
@testable import BNConvTestSupport

/// What a batch fold takes from its inputs and where each result goes: a directory's model files
/// in name order (not its subdirectories, hidden files or earlier outputs), outputs beside the
/// inputs, in a directory or in place, and every collision refused before anything runs.
final class BatchPlanTests: XCTestCase {
    private var dir: URL!
    private var previousDirectory = ""
    private let files = FileManager.default

    override func setUpWithError() throws {
        dir = try FixturePaths.scratchDirectory()
        previousDirectory = files.currentDirectoryPath
        files.changeCurrentDirectoryPath(dir.path)
        for name in ["b.onnx", "a.h5", "C.PB", "m.weights.h5", "m.keras", "old.hdf5", "a.folded.h5", "m.folded.weights.h5",
                     ".hidden.h5", "notes.txt", "h5", "model.json"] {
            try Data("x".utf8).write(to: dir.appendingPathComponent("zoo/" + name, isDirectory: false).creatingFolder())
        }
        try Data("x".utf8).write(to: dir.appendingPathComponent("zoo/sub/deep.h5").creatingFolder())
        try files.createDirectory(at: dir.appendingPathComponent("zoo/dir.h5"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        files.changeCurrentDirectoryPath(previousDirectory)
        try? files.removeItem(at: dir)
    }

    private func refusal(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            XCTFail("not refused")
            return ""
        } catch let error as UsageError {
            return error.message
        } catch {
            XCTFail("\(error)")
            return ""
        }
    }

    func testADirectoryGivesItsModelFilesSortedAndNothingElse() throws {
        XCTAssertEqual(try ModelDirectory.modelFiles(in: "zoo"),
                       ["zoo/C.PB", "zoo/a.h5", "zoo/b.onnx", "zoo/m.keras", "zoo/m.weights.h5", "zoo/old.hdf5"])
        XCTAssertEqual(try ModelDirectory.modelFiles(in: "zoo/").first, "zoo/C.PB", "a trailing slash is not doubled")
        files.changeCurrentDirectoryPath(dir.appendingPathComponent("zoo").path)
        XCTAssertEqual(try ModelDirectory.modelFiles(in: ".").first, "C.PB", "the current directory adds no ./")
        XCTAssertFalse(ModelDirectory.isModelFile("x.folded.onnx"))
        XCTAssertFalse(ModelDirectory.isModelFile("x.trimmed.onnx", tag: "trimmed"))
        XCTAssertTrue(ModelDirectory.isModelFile("x.trimmed.onnx"))
    }

    func testInputsKeepTheirOrderAndADirectoryStandsForItsFiles() throws {
        let up = "../\(dir.lastPathComponent)/zoo/sub/deep.h5"
        let plan = try BatchPlan(inputs: [up, "zoo", "zoo/notes.txt"])
        XCTAssertEqual(plan.jobs.map(\.input), [up, "zoo/C.PB", "zoo/a.h5", "zoo/b.onnx", "zoo/m.keras", "zoo/m.weights.h5",
                                                "zoo/old.hdf5", "zoo/notes.txt"], "a file given by name is taken whatever its extension")
        XCTAssertEqual(plan.jobs.first?.output, "../\(dir.lastPathComponent)/zoo/sub/deep.folded.h5", "spelled as the input was")
    }

    func testOutputsBesideAndInADirectory() throws {
        let beside = try BatchPlan(inputs: ["zoo/a.h5", "zoo/m.weights.h5", "zoo/sub/deep.h5"])
        XCTAssertEqual(beside.jobs.map(\.output), ["zoo/a.folded.h5", "zoo/m.folded.weights.h5", "zoo/sub/deep.folded.h5"])
        let named = try BatchPlan(inputs: ["zoo"])
        XCTAssertEqual(named.jobs.map(\.input), ["zoo/C.PB", "zoo/a.h5", "zoo/b.onnx", "zoo/m.keras", "zoo/m.weights.h5", "zoo/old.hdf5"])
        XCTAssertEqual(named.jobs.map(\.output), ["zoo/C.folded.PB", "zoo/a.folded.h5", "zoo/b.folded.onnx", "zoo/m.folded.keras",
                                                  "zoo/m.folded.weights.h5", "zoo/old.folded.hdf5"])
        let into = try BatchPlan(inputs: ["zoo/a.h5", "zoo/sub"], outputDirectory: "out/new/")
        XCTAssertEqual(into.jobs.map(\.output), ["out/new/a.folded.h5", "out/new/deep.folded.h5"])
        XCTAssertFalse(files.fileExists(atPath: "out"), "planning makes nothing")
        try into.createOutputDirectory()
        XCTAssertTrue(ModelDirectory.isDirectory("out/new"))
        let inPlace = try BatchPlan(inputs: ["zoo/a.h5", "zoo/b.onnx"], replacesInputs: true)
        XCTAssertEqual(inPlace.jobs.map(\.output), ["zoo/a.h5", "zoo/b.onnx"])
    }

    func testCollisionsAreRefusedBeforeAnythingIsMade() throws {
        try Data("x".utf8).write(to: dir.appendingPathComponent("other/a.h5").creatingFolder())
        XCTAssertEqual(refusal { try BatchPlan(inputs: ["zoo/a.h5", "other/a.h5"], outputDirectory: "out") },
                       "zoo/a.h5 and other/a.h5 would both be written to out/a.folded.h5; nothing was folded (rename one, or fold them into different directories)")
        XCTAssertFalse(files.fileExists(atPath: "out"))
        XCTAssertEqual(refusal { try BatchPlan(inputs: ["zoo/b.onnx", "zoo"]) },
                       "zoo/b.onnx and zoo/b.onnx are the same file; give each input once")
        XCTAssertTrue(refusal { try BatchPlan(inputs: ["zoo/a.h5", "./other/../zoo/a.h5"], replacesInputs: true) }.contains("are the same file"))
        try files.createSymbolicLink(atPath: "link.h5", withDestinationPath: "zoo/a.h5")
        XCTAssertTrue(refusal { try BatchPlan(inputs: ["zoo/a.h5", "link.h5"]) }.contains("are the same file"), "a link is its target")
        XCTAssertEqual(refusal { try BatchPlan(inputs: ["zoo/a.folded.h5", "zoo/a.h5"]) },
                       "the output of zoo/a.h5, zoo/a.folded.h5, would replace the input zoo/a.folded.h5; nothing was folded (choose another output directory)")
        XCTAssertTrue(refusal { try BatchPlan(inputs: ["zoo"], outputDirectory: "zoo/notes.txt") }.hasPrefix("zoo/notes.txt is not a directory"))
        XCTAssertTrue(refusal { try BatchPlan(inputs: ["zoo/sub/.."], outputDirectory: "x", replacesInputs: true) }.contains("cannot both"))
        try files.createDirectory(atPath: "empty", withIntermediateDirectories: false)
        XCTAssertTrue(refusal { try BatchPlan(inputs: ["zoo/a.h5", "empty"]) }.hasPrefix("empty: no model files in it"))
        XCTAssertTrue(refusal { try BatchPlan(inputs: []) }.hasPrefix("no input"))
    }
}

private extension URL {
    /// The URL, after making its folder.
    func creatingFolder() throws -> URL {
        try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
        return self
    }
}
