@testable import BNConvCore
@testable import BNConvTestSupport
import XCTest

final class DirectRangeWriterTests: XCTestCase {
    /// A file of `size` bytes of 0xEE in a scratch directory.
    private func file(size: Int) throws -> String {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ranges.bin").path
        try FileBytes.create(path, bytes: [UInt8](repeating: 0xEE, count: size))
        return path
    }

    /// Ranges with partial blocks at either end, whole blocks only, inside one block, and past the
    /// end of the file land exactly where asked, from aligned and unaligned memory, with and
    /// without direct I/O; the bytes around them are untouched.
    func testRangesLandExactlyWhereAsked() throws {
        let ranges = [(offset: 100, count: 20_000), (offset: 40_960, count: 8192), (offset: 70_000, count: 50), (offset: 90_001, count: 30_000)]
        for direct in [true, false] {
            for placed in [true, false] {
                let path = try file(size: 100_000)
                var expected = [UInt8](repeating: 0xEE, count: 100_000)
                let writer = try DirectRangeWriter(path: path, direct: direct)
                let buffer = AlignedBuffer()
                for (i, range) in ranges.enumerated() {
                    let bytes = (0..<range.count).map { UInt8(truncatingIfNeeded: $0 * 7 + i) }
                    if range.offset + range.count > expected.count { expected += [UInt8](repeating: 0, count: range.offset + range.count - expected.count) }
                    expected.replaceSubrange(range.offset..<(range.offset + range.count), with: bytes)
                    if placed {
                        let region = buffer.region(count: bytes.count, forFileOffset: range.offset)
                        region.copyBytes(from: bytes)
                        try writer.write(UnsafeRawBufferPointer(region), at: range.offset)
                    } else {
                        // Odd memory address: the range goes through the page cache.
                        let shifted = [UInt8](repeating: 0, count: 1) + bytes
                        try shifted.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[1...]), at: range.offset) }
                    }
                }
                XCTAssertEqual(try FileBytes.read(path), expected, "direct \(direct), placed \(placed)")
            }
        }
    }

    /// A file that cannot be opened is an error naming the problem.
    func testAMissingFileIsAnError() {
        XCTAssertThrowsError(try DirectRangeWriter(path: "/nonexistent-dir/x.bin")) { error in
            XCTAssertTrue("\(error)".contains("No such file"), "\(error)")
        }
    }
}
