import XCTest
@testable import BNConvInterop

/// Raw-deflate inflation bounded by the declared size and the stored bytes. The streams are
/// deflate "stored" blocks (RFC 1951 3.2.4: BFINAL, BTYPE 00, LEN, NLEN, the bytes), which need no
/// compressor to write.
final class ZlibInflaterTests: XCTestCase {
    private func storedBlock(_ data: [UInt8], final: Bool = true) -> [UInt8] {
        let n = UInt16(data.count)
        return [final ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + data
    }

    private func inflate(_ stream: [UInt8], size: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        try stream.withUnsafeBytes { input in
            try out.withUnsafeMutableBytes { try ZlibInflater().inflate(input, into: $0) }
        }
        return out
    }

    func testAStreamInflatesToItsDeclaredSize() throws {
        let data = Array("hello, deflate".utf8)
        XCTAssertEqual(try inflate(storedBlock(data), size: data.count), data)
        XCTAssertEqual(try inflate(storedBlock(Array(data.prefix(5)), final: false) + storedBlock(Array(data.dropFirst(5))), size: data.count), data)
    }

    /// The case that made ZIPFoundation's loop spin for ever: the stream is cut before its end.
    func testATruncatedStreamIsAnError() {
        let stream = storedBlock(Array(repeating: 7, count: 100))
        XCTAssertThrowsError(try inflate(Array(stream.prefix(50)), size: 100)) { error in
            XCTAssertEqual(error as? ZlibInflater.Failure, .truncated)
        }
    }

    func testMoreThanTheDeclaredSizeIsAnOverrun() {
        XCTAssertThrowsError(try inflate(storedBlock(Array(repeating: 7, count: 100)), size: 99)) { error in
            XCTAssertEqual(error as? ZlibInflater.Failure, .overrun)
        }
    }

    func testLessThanTheDeclaredSizeIsShort() {
        XCTAssertThrowsError(try inflate(storedBlock(Array(repeating: 7, count: 100)), size: 101)) { error in
            XCTAssertEqual(error as? ZlibInflater.Failure, .short(100))
        }
    }

    func testAnInvalidBlockTypeIsCorrupt() {
        XCTAssertThrowsError(try inflate([0x07, 0, 0], size: 10)) { error in
            guard case .corrupt(let message)? = error as? ZlibInflater.Failure else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "invalid block type")
        }
    }

    func testCRC32MatchesTheStandardCheckValue() {
        // The CRC-32 check value of "123456789" (ISO-HDLC, as zip uses it) is 0xCBF43926.
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { ZlibInflater.crc32($0) }, 0xCBF4_3926)
    }
}
