import Foundation
import XCTest
@testable import BNConvCore

/// Whole-file reads are bounded: a device that never ends (`/dev/zero`, read with
/// `--allow-special`) stops at the limit with an error saying so, instead of growing for ever.
final class FileBytesTests: XCTestCase {
    func testADeviceThatNeverEndsStopsAtTheLimit() throws {
        XCTAssertThrowsError(try FileBytes.read("/dev/zero", limit: 100_000)) { error in
            let e = error as? FileBytesError
            XCTAssertEqual(e?.limit, 100_000)
            XCTAssertEqual(e?.description, "it holds more than 100000 bytes, the most bnconv reads from it")
        }
    }

    func testARegularFileLargerThanTheLimitIsRefusedBeforeReading() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("filebytes-\(UUID().uuidString)").path
        try FileBytes.create(path, bytes: [UInt8](repeating: 7, count: 1000))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try FileBytes.read(path, limit: 1000).count, 1000)
        XCTAssertThrowsError(try FileBytes.read(path, limit: 999)) { error in
            XCTAssertEqual((error as? FileBytesError)?.limit, 999)
        }
    }
}
