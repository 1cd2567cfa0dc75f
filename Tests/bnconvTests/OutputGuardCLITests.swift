import Foundation
import XCTest
@testable import BNConvTestSupport

/// No command writes over one of its own inputs, however the output is spelled, and no output
/// replaces a device or a directory: each is a usage error (status 2), the input left as it was.
final class OutputGuardCLITests: XCTestCase {
    private let fixture = FixturePaths.url("keras/mini_resnet")

    /// A scratch directory holding copies of the mini ResNet's files.
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for (from, to) in [("keras2.h5", "m.h5"), ("keras2_weights.h5", "w.h5"), ("keras2.json", "arch.json"), ("input.npy", "x.npy")] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(from), to: dir.appendingPathComponent(to))
        }
        return dir
    }

    /// Runs `args`, expects status 2 with `message` on stderr, and `untouched` byte for byte as before.
    private func assertRefused(_ args: [String], _ message: String, untouched: URL,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try Data(contentsOf: untouched)
        let result = try CLIRunner.run(args)
        XCTAssertEqual(result.status, 2, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(message), result.stderr, file: file, line: line)
        XCTAssertEqual(try Data(contentsOf: untouched), before, "\(untouched.lastPathComponent) changed", file: file, line: line)
    }

    func testRunDoesNotWriteItsOutputOverTheModelOrTheInput() throws {
        let dir = try scratch()
        let model = dir.appendingPathComponent("m.h5"), input = dir.appendingPathComponent("x.npy")
        try assertRefused(["run", model.path, "-o", model.path], "is the input \(model.path)", untouched: model)
        try assertRefused(["run", model.path, "--input", input.path, "-o", input.path], "is the input \(input.path)", untouched: input)
    }

    func testFoldDoesNotWriteTheFoldedArchitectureOverItsConfig() throws {
        let dir = try scratch()
        let config = dir.appendingPathComponent("arch.json")
        // The folded architecture of w.h5 -> arch.h5 would go to arch.json, the --config input.
        try assertRefused(["fold", dir.appendingPathComponent("w.h5").path, "--config", config.path,
                           "-o", dir.appendingPathComponent("arch.h5").path],
                          "is the input \(config.path)", untouched: config)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("arch.h5").path))
    }

    func testAHardLinkToTheInputIsTheInput() throws {
        let dir = try scratch()
        let weights = dir.appendingPathComponent("w.h5"), link = dir.appendingPathComponent("hard.h5")
        try FileManager.default.linkItem(at: weights, to: link)
        try assertRefused(["fold", weights.path, "--config", dir.appendingPathComponent("arch.json").path, "-o", link.path],
                          "(the same file under another name)", untouched: weights)
    }

    func testAVerificationInputIsNotAnOutput() throws {
        let dir = try scratch()
        let input = dir.appendingPathComponent("x.npy")
        try assertRefused(["fold", dir.appendingPathComponent("m.h5").path, "--input", input.path, "-o", input.path],
                          "is the input \(input.path)", untouched: input)
    }

    func testADeviceOrADirectoryIsNeverReplaced() throws {
        let dir = try scratch()
        let model = dir.appendingPathComponent("m.h5")
        try assertRefused(["fold", model.path, "-o", "/dev/null"], "/dev/null is a character device", untouched: model)
        var status = stat()
        XCTAssertEqual(stat("/dev/null", &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")
        let folder = dir.appendingPathComponent("folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        try assertRefused(["convert", model.path, "-o", folder.path, "--layout", "nchw"], "is a directory", untouched: model)
    }
}
