import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvTestSupport

/// The output sink: the same bytes in memory and in a file, whatever the piece sizes (small ones
/// buffered, large ones written directly); FileBytes reads a file back whole.
final class ByteSinkTests: XCTestCase {
    func testMemoryAndFileSinksHoldTheSameBytes() throws {
        var pieces = [[UInt8]]()
        var generator = SystemRandomNumberGenerator()
        for size in [1, 7, 300_000, 5, (1 << 20) - 3, 2, 1 << 18, 900_000, 0, 17] {
            pieces.append((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        let memory = ByteSink()
        for p in pieces { memory.append(p) }
        try memory.finish()
        XCTAssertEqual(memory.bytes, pieces.flatMap { $0 })
        XCTAssertEqual(memory.count, memory.bytes.count)

        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.bin").path
        try ByteSink.writing(to: path, file: path) { sink in for p in pieces { sink.append(p[...]) } }
        let back = try FileBytes.contents(of: path)
        XCTAssertEqual(back.count, memory.bytes.count)
        XCTAssertTrue(back == memory.bytes)
    }

    /// Skipped ranges are left for others to write: zeros in memory, holes in a file (the file as
    /// long as everything appended and skipped, a skip at the end included), filled with `pwrite`.
    func testSkippedRangesAreLeftForOthers() throws {
        let pieces: [(bytes: [UInt8], skip: Int)] = [([1, 2, 3], 5), (Array(repeating: 9, count: 300_000), 4096), ([7], 0), ([8, 8], 70_000)]
        let memory = ByteSink()
        var expected = [UInt8]()
        var gaps = [(offset: Int, count: Int)]()
        for (bytes, skip) in pieces {
            memory.append(bytes)
            expected += bytes
            gaps.append((memory.count, skip))
            memory.skip(skip)
            expected += repeatElement(0, count: skip)
        }
        try memory.finish()
        XCTAssertEqual(memory.bytes, expected)
        XCTAssertEqual(memory.count, expected.count)

        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("gaps.bin").path
        try ByteSink.writing(to: path, file: path) { sink in
            for (bytes, skip) in pieces {
                sink.append(bytes)
                sink.skip(skip)
            }
        }
        XCTAssertTrue(try FileBytes.contents(of: path) == expected, "holes read as zeros, the file as long as the last skip")
        let fd = open(path, O_WRONLY)
        for (k, gap) in gaps.enumerated() where gap.count > 0 {
            let fill = [UInt8](repeating: UInt8(100 + k), count: gap.count)
            XCTAssertEqual(fill.withUnsafeBytes { FileBytes.writeAll(fd, $0, at: gap.offset) }, 0)
            expected.replaceSubrange(gap.offset..<(gap.offset + gap.count), with: fill)
        }
        close(fd)
        XCTAssertTrue(try FileBytes.contents(of: path) == expected)
    }

    func testFailuresNameTheFile() throws {
        let missing = "/nonexistent-dir/x.bin"
        let e1 = TensorFlowFixtures.checkpointError { try ByteSink.writing(to: missing, file: missing) { _ in } }
        XCTAssertEqual(e1?.kind, .writeFailed)
        let e2 = TensorFlowFixtures.checkpointError { _ = try FileBytes.contents(of: missing) }
        XCTAssertEqual(e2?.kind, .cannotOpen)
        XCTAssertTrue(e2?.description.hasPrefix(missing) ?? false, e2?.description ?? "")
    }
}
