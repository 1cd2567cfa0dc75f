import XCTest
@testable import BNConvInterop
@testable import BNConvTestSupport

final class ProtobufWireCheckTests: XCTestCase {
    func testWellFormedFixtureHasNoProblem() throws {
        XCTAssertNil(ProtobufWireCheck.firstProblem(in: try ONNXFixtures.modelBytes("conv_bn")))
    }

    func testEmptyInput() {
        XCTAssertEqual(ProtobufWireCheck.firstProblem(in: []), "the file is empty")
    }

    func testLengthPrefixPastTheEndNamesFieldAndSizes() {
        // field 7 (graph), wire type 2, length 0xFFFFFFFF, then 3 bytes.
        let bytes: [UInt8] = [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3]
        XCTAssertEqual(ProtobufWireCheck.firstProblem(in: bytes),
                       "field 7 at byte 0 declares 4294967295 bytes but only 3 remain (truncated, or not a protobuf file)")
    }

    func testTruncatedVarint() {
        XCTAssertEqual(ProtobufWireCheck.firstProblem(in: [0x08, 0x80]), "field 1 at byte 0: truncated varint")
    }

    func testInvalidWireType() {
        XCTAssertEqual(ProtobufWireCheck.firstProblem(in: [0x0F]), "field 1 at byte 0 has invalid wire type 7")
    }

    func testFieldNumberZero() {
        XCTAssertEqual(ProtobufWireCheck.firstProblem(in: [0x00, 0x01]), "invalid field number 0 at byte 0")
    }
}
