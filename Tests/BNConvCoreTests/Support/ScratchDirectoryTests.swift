@testable import BNConvCore
import Foundation
import XCTest

/// Scratch directories of dead processes are removed by the next one; live ones never.
final class ScratchDirectoryTests: XCTestCase {
    func testStaleDirectoriesOfDeadProcessesAreRemovedLiveOnesKept() throws {
        let prefix = "bnconv-test-\(UUID().uuidString.prefix(6))"
        let parent = FileManager.default.temporaryDirectory
        // A PID that cannot be running (pid_max is at most 2^22), and init, always alive.
        let dead = parent.appendingPathComponent("\(prefix)-99999999-ABCDEF12")
        let live = parent.appendingPathComponent("\(prefix)-1-ABCDEF12")
        let unrelated = parent.appendingPathComponent("\(prefix)x-99999999-ABCDEF12")
        for dir in [dead, live, unrelated] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("inner"), withIntermediateDirectories: true)
        }
        addTeardownBlock { for dir in [dead, live, unrelated] { try? FileManager.default.removeItem(at: dir) } }
        let scratch = try ScratchDirectory(prefix: prefix)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.path), "a dead process's directory is removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "a live process's directory is kept")
        XCTAssertTrue(FileManager.default.fileExists(atPath: unrelated.path), "another prefix is not touched")
        XCTAssertEqual(ScratchDirectory.ownerPID(of: scratch.url.lastPathComponent, prefix: prefix), getpid())
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.url.path))
        scratch.remove()
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.url.path))
    }
}
