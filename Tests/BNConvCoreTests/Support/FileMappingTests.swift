@testable import BNConvCore
@testable import BNConvTestSupport
import Foundation
import XCTest

/// ``FileMapping``: a range of a file mapped read-only for as long as the value lives, at any offset.
final class FileMappingTests: XCTestCase {
    func testARangeIsMappedAsStoredAtAnyOffset() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("data.bin").path
        let bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let file = try XCTUnwrap(MappedFile(path: path))
        // An odd offset inside a page, a range across pages, the whole file, nothing.
        for (offset, count) in [(4_093, 5_001), (1, 19_999), (0, 20_000), (777, 0)] {
            let mapping = try file.mapping(offset: offset, count: count)
            XCTAssertEqual(mapping.count, count)
            XCTAssertEqual(Array(mapping.bytes), Array(bytes[offset..<(offset + count)]), "\(offset)+\(count)")
            // Letting go of the resident pages keeps the bytes readable (they are mapped again).
            mapping.dropResidentPages()
            XCTAssertEqual(Array(mapping.bytes), Array(bytes[offset..<(offset + count)]), "\(offset)+\(count) after dropping")
        }
    }

    func testARangeBeyondTheFileIsRefused() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("short.bin").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(repeating: 1, count: 100)))
        let file = try XCTUnwrap(MappedFile(path: path))
        XCTAssertThrowsError(try file.mapping(offset: 90, count: 20)) { error in
            XCTAssertEqual((error as? CheckpointError)?.file, path)
        }
        XCTAssertThrowsError(try file.mapping(offset: -1, count: 2))
    }
}
