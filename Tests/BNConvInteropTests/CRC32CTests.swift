import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// CRC-32C gives the RFC 3720 (iSCSI) test vectors and the standard check value; pieces extended
/// one after another, pieces joined by combine, and a file range read on several cores give the
/// one-pass value; masking is TensorFlow's and undoes.
final class CRC32CTests: XCTestCase {
    /// Deterministic pseudo-random bytes.
    private func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// The CRC one bit at a time, straight from the definition (reflected 0x82F63B78).
    private func bitwise(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in data {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        }
        return ~c
    }

    func testKnownVectors() {
        XCTAssertEqual(CRC32C.value(Array("123456789".utf8)), 0xE306_9283)
        // RFC 3720, B.4: 32 bytes of zeros, of ones, ascending, descending.
        XCTAssertEqual(CRC32C.value([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.value([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.value((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.value((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.value([]), 0)
    }

    func testEveryLengthAndAlignmentMatchesTheDefinition() {
        let data = bytes(700, seed: 3)
        data.withUnsafeBytes { all in
            for offset in 0..<9 {
                for count in 0...(all.count - offset) where count < 100 || count % 37 == 0 {
                    let part = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count)])
                    XCTAssertEqual(CRC32C.value(part), bitwise(Array(part)), "offset \(offset), count \(count)")
                }
            }
        }
    }

    func testExtendAndCombineJoinPieces() {
        let data = bytes(5000, seed: 11)
        let whole = CRC32C.value(data)
        for cut in [0, 1, 7, 8, 9, 1000, 4999, 5000] {
            let a = Array(data[..<cut]), b = Array(data[cut...])
            XCTAssertEqual(CRC32C.extend(CRC32C.value(a), b), whole, "cut \(cut)")
            XCTAssertEqual(CRC32C.combine(CRC32C.value(a), CRC32C.value(b), secondLength: b.count), whole, "cut \(cut)")
        }
    }

    func testMasking() {
        // LevelDB's crc32c_test: the mask changes the value and undoes.
        let crc = CRC32C.value(Array("foo".utf8))
        XCTAssertNotEqual(CRC32C.masked(crc), crc)
        XCTAssertNotEqual(CRC32C.masked(CRC32C.masked(crc)), crc)
        XCTAssertEqual(CRC32C.unmasked(CRC32C.masked(crc)), crc)
        XCTAssertEqual(CRC32C.unmasked(CRC32C.unmasked(CRC32C.masked(CRC32C.masked(crc)))), crc)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
    }

    func testAFileRangeOnSeveralCoresGivesTheOnePassValue() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = bytes(RangeChecksum.parallelBytes + 3 * 4096 + 5, seed: 5)
        let path = dir.appendingPathComponent("data").path
        try FileBytes.create(path, bytes: data)
        let file = try XCTUnwrap(MappedFile(path: path))
        XCTAssertEqual(try CRC32C.of(file, offset: 3, count: data.count - 3, threads: 4), CRC32C.value(Array(data[3...])))
        XCTAssertEqual(try CRC32C.of(file, offset: 0, count: 100), CRC32C.value(Array(data[..<100])))
    }

    /// Opt-in (BNCONV_BENCH_BUNDLE=1): prints the speed on one core; asserts nothing about time.
    func testSpeed() throws {
        guard ProcessInfo.processInfo.environment["BNCONV_BENCH_BUNDLE"] != nil else { throw XCTSkip("set BNCONV_BENCH_BUNDLE=1 to measure") }
        let data = bytes(64 << 20, seed: 1)
        var best = Double.infinity
        var crc: UInt32 = 0
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            crc ^= CRC32C.value(data)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        print(String(format: "CRC32C slicing-by-8: %.2f GB/s on one core (64 MiB, best of 5; %08x)", Double(data.count) / best / 1e9, crc))
    }
}
