import XCTest
@testable import BNConvInterop
@testable import BNConvTestSupport

/// The field-level wire walk: positions of every field kind, and nil for malformed bytes.
final class ProtobufWireTests: XCTestCase {
    func testFieldsOfEveryWireType() throws {
        // field 1 varint 300, field 2 "ab", field 3 fixed32, field 4 fixed64.
        let bytes: [UInt8] = [0x08, 0xAC, 0x02, 0x12, 0x02, 0x61, 0x62, 0x1D, 1, 2, 3, 4, 0x21, 1, 2, 3, 4, 5, 6, 7, 8]
        let fields = try XCTUnwrap(bytes.withUnsafeBytes { ProtobufWire.fields(in: $0, 0..<bytes.count) })
        XCTAssertEqual(fields.map(\.number), [1, 2, 3, 4])
        XCTAssertEqual(fields.map(\.wireType), [0, 2, 5, 1])
        XCTAssertEqual(fields.map(\.range), [0..<3, 3..<7, 7..<12, 12..<21])
        XCTAssertEqual(fields[1].payload, 5..<7)
        XCTAssertEqual(ProtobufWire.varint(300), [0xAC, 0x02])
        XCTAssertEqual(ProtobufWire.lengthDelimitedHeader(field: 1, length: 2), [0x0A, 0x02])
    }

    func testMalformedBytesGiveNil() {
        for bad: [UInt8] in [[0x12, 0x05, 0x61], [0x08], [0x0B], [0x00, 0x01], [0x1D, 1, 2]] {
            XCTAssertNil(bad.withUnsafeBytes { ProtobufWire.fields(in: $0, 0..<bad.count) }, "\(bad)")
        }
    }
}
