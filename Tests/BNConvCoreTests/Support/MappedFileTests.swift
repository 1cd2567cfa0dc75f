@testable import BNConvCore
@testable import BNConvTestSupport
import Foundation
import XCTest

/// ``MappedFile``: byte ranges lent from a read-only mapping, bounds checked.
final class MappedFileTests: XCTestCase {
    func testRangesAreLentAsStored() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("data.bin").path
        let bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let file = try XCTUnwrap(MappedFile(path: path))
        XCTAssertEqual(file.size, bytes.count)
        // An offset inside a page, a range across pages, the very end, and nothing.
        for (offset, count) in [(0, 10), (4_093, 5_000), (19_990, 10), (12_345, 0)] {
            XCTAssertEqual(try file.withBytes(offset: offset, count: count) { Array($0) }, Array(bytes[offset..<(offset + count)]), "\(offset)+\(count)")
        }
    }

    func testARangeBeyondTheFileIsRefused() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("short.bin").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(repeating: 1, count: 100)))
        let file = try XCTUnwrap(MappedFile(path: path))
        XCTAssertThrowsError(try file.withBytes(offset: 90, count: 20) { _ in () }) { error in
            XCTAssertEqual((error as? CheckpointError)?.file, path)
        }
        XCTAssertNil(MappedFile(path: dir.appendingPathComponent("absent").path))
    }
}
