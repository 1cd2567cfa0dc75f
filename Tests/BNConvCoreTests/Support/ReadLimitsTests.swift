@testable import BNConvCore
import XCTest

/// The cap on one tensor is a value: each reader checks the limits it was given, nothing global.
final class ReadLimitsTests: XCTestCase {
    func testDefaultCapIsFourGiB() {
        XCTAssertEqual(ReadLimits().maxTensorBytes, 4 << 30)
        XCTAssertNil(ReadLimits().refusal(count: 1 << 30, elementBytes: 4))
        XCTAssertNotNil(ReadLimits().refusal(count: (1 << 30) + 1, elementBytes: 4))
    }

    func testCapIsInclusiveAndNamesTheSize() throws {
        let limits = ReadLimits(maxTensorBytes: 64)
        XCTAssertNil(limits.refusal(count: 16, elementBytes: 4))
        let refusal = try XCTUnwrap(limits.refusal(count: 17, elementBytes: 4))
        XCTAssertTrue(refusal.contains("68 bytes"), refusal)
        XCTAssertTrue(refusal.contains("64-byte cap"), refusal)
    }

    func testOverflowIsRefused() throws {
        let refusal = try XCTUnwrap(ReadLimits(maxTensorBytes: .max).refusal(count: .max, elementBytes: 2))
        XCTAssertTrue(refusal.contains("more than \(Int.max)"), refusal)
    }
}
