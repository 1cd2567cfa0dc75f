@testable import BNConvCore
@testable import BNConvTestSupport
import Foundation
import XCTest

/// ``Writeback``: it hands a file's dirty pages to the disk at once (seen through the page cache's own
/// counters), never changes the file, never creates one, and leaves no descriptor open.
final class WritebackTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// 1 MiB of bytes that are not all alike, written with plain `write` calls and no sync (so its
    /// pages are dirty; Foundation's `createFile` syncs what it writes).
    private func writeFile(_ path: String) throws -> Data {
        var bytes = Data(count: 1 << 20)
        bytes.withUnsafeMutableBytes { raw in
            for i in raw.indices { raw[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 12) }
        }
        let file = try XCTUnwrap(FileHandle(forWritingAtPath: path) ?? {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
            return FileHandle(forWritingAtPath: path)
        }())
        try file.write(contentsOf: bytes)
        try file.close()
        return bytes
    }

    /// Two files written alike: the one given to ``Writeback/start(_:)`` has no dirty page left when it
    /// returns, the other still has them (the kernel's own flusher waits 30 s by default), so the
    /// difference is the call's doing.
    func testStartHandsEveryDirtyPageToTheDisk() throws {
        #if !os(Linux)
        throw XCTSkip("Writeback is a no-op off Linux")
        #else
        let dir = try scratch()
        let started = dir.appendingPathComponent("started.bin").path
        let untouched = dir.appendingPathComponent("untouched.bin").path
        _ = try writeFile(started)
        _ = try writeFile(untouched)
        guard let before = PageCacheState.of(started), let control = PageCacheState.of(untouched) else {
            throw XCTSkip("this kernel has no cachestat (Linux 6.5+)")
        }
        guard before.dirty > 0, control.dirty > 0 else {
            throw XCTSkip("the files' pages were written back before the test looked (\(before), \(control))")
        }
        Writeback.start(started)
        let after = try XCTUnwrap(PageCacheState.of(started))
        let controlAfter = try XCTUnwrap(PageCacheState.of(untouched))
        guard controlAfter.dirty > 0 else {
            throw XCTSkip("the kernel wrote the control file back meanwhile; nothing to tell apart (\(controlAfter))")
        }
        XCTAssertEqual(after.dirty, 0, "before \(before), after \(after)")
        XCTAssertEqual(after.cached, before.cached, "the pages stay cached")
        #endif
    }

    func testStartingWritebackLeavesTheFileAsWritten() throws {
        let path = try scratch().appendingPathComponent("data.bin").path
        let bytes = try writeFile(path)
        Writeback.start(path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), bytes)
    }

    func testAMissingFileIsIgnored() throws {
        let path = try scratch().appendingPathComponent("absent.bin").path
        Writeback.start(path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    /// Every call closes what it opened: a hundred calls leave the process's descriptor count as it was.
    func testNoDescriptorIsLeftOpen() throws {
        #if !os(Linux)
        throw XCTSkip("the descriptor count is read from /proc")
        #else
        let path = try scratch().appendingPathComponent("data.bin").path
        _ = try writeFile(path)
        func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }
        let before = try openDescriptors()
        for _ in 0..<100 { Writeback.start(path) }
        let after = try openDescriptors()
        XCTAssertLessThan(after - before, 10, "\(after - before) more descriptors open after 100 calls")
        #endif
    }
}
