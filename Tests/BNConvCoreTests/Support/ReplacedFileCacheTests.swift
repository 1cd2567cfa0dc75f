@testable import BNConvCore
@testable import BNConvTestSupport
import XCTest

final class ReplacedFileCacheTests: XCTestCase {
    private func temporaryFile(bytes: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rfc-\(UUID().uuidString).bin").path
        try FileBytes.create(path, bytes: (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        addTeardownBlock { unlink(path) }
        return path
    }

    /// Releasing the cache of a large file leaves its content as it was; waiting twice returns.
    func testReleaseKeepsContentAndWaitIsIdempotent() throws {
        let path = try temporaryFile(bytes: 9 << 20)
        let before = try FileBytes.read(path)
        let release = ReplacedFileCache(releasing: path)
        release.wait()
        release.wait()
        XCTAssertEqual(try FileBytes.read(path), before)
    }

    /// The old file stays open until it has been replaced, then is closed on another core (so
    /// that its blocks are freed there), and never by an AtomicFile write that failed.
    func testOldFileIsHeldUntilReplacedThenLetGo() throws {
        let path = try temporaryFile(bytes: 9 << 20)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        func held() -> Bool { ReplacedFileCache.openInThisProcess(device: info.st_dev, inode: info.st_ino) }

        XCTAssertThrowsError(try AtomicFile.write(to: path) { _ in throw CocoaError(.fileWriteUnknown) })
        XCTAssertFalse(held(), "a failed write lets the old file go as it was")
        XCTAssertEqual(try FileBytes.read(path).count, 9 << 20)

        let release = ReplacedFileCache(releasing: path)
        release.wait()
        XCTAssertTrue(held(), "held open while the new content is made")
        release.letGo()
        var waited = 0
        while held() && waited < 200 {
            usleep(5000)
            waited += 1
        }
        XCTAssertFalse(held(), "closed once let go")
        release.letGo()   // a second call does nothing
    }

    /// A file this process holds open is recognised (an in-place rewrite keeps its input's cache).
    func testRecognisesFilesThisProcessHasOpen() throws {
        let path = try temporaryFile(bytes: 16)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertFalse(ReplacedFileCache.openInThisProcess(device: info.st_dev, inode: info.st_ino))
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertTrue(ReplacedFileCache.openInThisProcess(device: info.st_dev, inode: info.st_ino))
    }

    /// A release started ahead is handed to the write of the same path once; an atomic write over
    /// the file then replaces it completely.
    func testEarlyReleaseIsHandedOverOnce() throws {
        let path = try temporaryFile(bytes: 9 << 20)
        AtomicFile.prepareToReplace(path)
        XCTAssertNotNil(ReplacedFileCache.started(for: path))
        XCTAssertNil(ReplacedFileCache.started(for: path))
        AtomicFile.prepareToReplace(path)
        try AtomicFile.write([1, 2, 3], to: path)
        XCTAssertNil(ReplacedFileCache.started(for: path))
        XCTAssertEqual(try FileBytes.read(path), [1, 2, 3])
    }

    /// The size of a file, without user-name lookups; nil for a missing one.
    func testFileSize() throws {
        let path = try temporaryFile(bytes: 1234)
        XCTAssertEqual(FileBytes.size(of: path), 1234)
        XCTAssertNil(FileBytes.size(of: path + ".missing"))
    }
}
