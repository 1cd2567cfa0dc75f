@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvCalibration
@testable import BNConvPipeline
@testable import BNConvTestSupport
import Foundation
import XCTest

/// ``Writeback``: a hint that never changes a file and never fails.
final class WritebackTests: XCTestCase {
    func testStartingWritebackLeavesTheFileAsWritten() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("data.bin").path
        let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        Writeback.start(path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(bytes))
    }

    func testAMissingFileIsIgnored() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("absent.bin").path
        Writeback.start(path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
