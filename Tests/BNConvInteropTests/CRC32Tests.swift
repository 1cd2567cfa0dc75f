import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// The CRC-32 folded by carry-less multiplication gives zlib's value for every length, alignment
/// and running value; CRCs of pieces join into the whole's; a file range read on several cores
/// gives the same CRC as one pass.
final class CRC32Tests: XCTestCase {
    /// Deterministic pseudo-random bytes.
    private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    func testTheCheckValue() {
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { CRC32.of($0) }, 0xCBF4_3926)
        XCTAssertEqual([UInt8]().withUnsafeBytes { CRC32.of($0, continuing: 0x1234) }, 0x1234)
    }

    func testFoldingGivesZlibsValueForEveryLengthAndAlignment() {
        let data = bytes(1200, seed: 7)
        data.withUnsafeBytes { all in
            for offset in 0..<16 {
                for count in 0...(all.count - offset) where count < 300 || count % 61 == 0 {
                    let part = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count)])
                    for start: UInt32 in [0, 0xFFFF_FFFF, 0x1234_5678] {
                        XCTAssertEqual(CRC32.of(part, continuing: start, folding: CRC32.folds), CRC32.of(part, continuing: start, folding: false),
                                       "offset \(offset), count \(count), start \(start)")
                    }
                }
            }
        }
    }

    func testALargeBufferAndPiecesJoined() {
        let data = bytes(3 << 20 + 77, seed: 11)
        data.withUnsafeBytes { all in
            let whole = CRC32.of(all, folding: false)
            XCTAssertEqual(CRC32.of(all), whole)
            let cut = 1_000_003
            let first = CRC32.of(UnsafeRawBufferPointer(rebasing: all[..<cut]))
            let second = CRC32.of(UnsafeRawBufferPointer(rebasing: all[cut...]))
            XCTAssertEqual(CRC32.combine(first, second, secondLength: all.count - cut), whole)
            XCTAssertEqual(CRC32.of(UnsafeRawBufferPointer(rebasing: all[cut...]), continuing: first), whole)
            XCTAssertEqual(CRC32.combine(whole, 0, secondLength: 0), whole)
        }
    }

    func testAFileRangeOnSeveralCoresMatchesOnePass() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("data.bin").path
        let data = bytes(21 << 20 + 5, seed: 3)
        try Data(data).write(to: URL(fileURLWithPath: path))
        let file = try XCTUnwrap(MappedFile(path: path))
        for (offset, count) in [(0, data.count), (13, data.count - 20), (4097, 9 << 20), (5, 100)] {
            let expected = data.withUnsafeBytes { CRC32.of(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)]), folding: false) }
            for threads in [1, 2, 3, 8] {
                XCTAssertEqual(try CRC32.of(file, offset: offset, count: count, threads: threads), expected, "\(offset)+\(count) on \(threads)")
            }
        }
    }
}
