@testable import BNConvCore
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The shared write mechanism: complete-or-nothing, and cleanup of temporaries left by dead writers.
final class AtomicFileTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testTemporaryNameCarriesThePIDAndParsesBack() {
        let name = AtomicFile.temporaryName(for: "model.h5")
        XCTAssertTrue(name.hasPrefix(".model.h5.bnconv-\(getpid())-"), name)
        XCTAssertEqual(AtomicFile.writerPID(ofTemporary: name, for: "model.h5"), getpid())
        XCTAssertNil(AtomicFile.writerPID(ofTemporary: name, for: "other.h5"))
        XCTAssertNil(AtomicFile.writerPID(ofTemporary: ".model.h5.bnconv-abc-12345678.tmp", for: "model.h5"))
        XCTAssertNil(AtomicFile.writerPID(ofTemporary: "model.h5", for: "model.h5"))
    }

    func testAFailedWriteLeavesTheTargetAndNoTemporary() throws {
        let dir = try scratch()
        let target = dir.appendingPathComponent("out.bin").path
        try AtomicFile.write([1, 2, 3], to: target)
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: target) { temporary in
            _ = FileManager.default.createFile(atPath: temporary, contents: Data([9, 9]))
            throw Boom()
        })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), Data([1, 2, 3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.bin"])
    }

    func testStaleTemporariesOfDeadWritersAreRemovedLiveOnesKept() throws {
        let dir = try scratch()
        // A PID that cannot be running: the kernel's pid_max is at most 2^22.
        let dead = dir.appendingPathComponent(".out.bin.bnconv-99999999-ABCDEF12.tmp").path
        let live = dir.appendingPathComponent(".out.bin.bnconv-1-ABCDEF12.tmp").path   // init is always alive
        let unrelated = dir.appendingPathComponent(".other.bin.bnconv-99999999-ABCDEF12.tmp").path
        for p in [dead, live, unrelated] { _ = FileManager.default.createFile(atPath: p, contents: Data([0])) }
        try AtomicFile.write([7], to: dir.appendingPathComponent("out.bin").path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live))
        XCTAssertTrue(FileManager.default.fileExists(atPath: unrelated))
    }

    func testATargetNameOfUpTo255BytesIsWritten() throws {
        let dir = try scratch()
        // 255 bytes, the longest a name may be: ASCII, and a name of two-byte characters ending in
        // a one-byte one, so the cut must fall between characters.
        for name in [String(repeating: "m", count: 250) + ".onnx", String(repeating: "é", count: 127) + "x"] {
            XCTAssertEqual(name.utf8.count, 255)
            let target = dir.appendingPathComponent(name).path
            try AtomicFile.write([4, 2], to: target)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), Data([4, 2]))
            let temporary = AtomicFile.temporaryName(for: name)
            XCTAssertLessThanOrEqual(temporary.utf8.count, 255, temporary)
            XCTAssertNotNil(String(validatingCString: temporary), "a valid name")
            XCTAssertEqual(AtomicFile.writerPID(ofTemporary: temporary, for: name), getpid())
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).count, 2, "no temporary left")
    }

    func testStaleTemporariesOfALongNameAreRemoved() throws {
        let dir = try scratch()
        let name = String(repeating: "n", count: 240) + ".h5"
        let stale = ".\(AtomicFile.temporaryStem(for: name)).bnconv-99999999-ABCDEF12.tmp"
        XCTAssertLessThanOrEqual(stale.utf8.count, 255)
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(stale).path, contents: Data([0]))
        try AtomicFile.write([1], to: dir.appendingPathComponent(name).path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [name])
    }
}
