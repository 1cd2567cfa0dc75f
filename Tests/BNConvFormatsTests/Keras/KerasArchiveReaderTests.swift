import Foundation
import XCTest
import ZIPFoundation
@testable import BNConvCore
@testable import BNConvFormats
@testable import BNConvTestSupport

/// The `.keras` zip is read as Keras's zipfile reads it: a member whose bytes do not match the
/// CRC-32 the archive records is refused, naming the member.
final class KerasArchiveReaderTests: XCTestCase {
    func testAMemberWithAWrongCRCIsRefused() throws {
        let original = try Data(contentsOf: FixturePaths.url("keras/mini_resnet/keras3.keras"))
        var damaged = [UInt8](original)
        // config.json is stored uncompressed: change one digit of the first epsilon in place.
        let marker = Array(#""epsilon": 0.0"#.utf8)
        guard let at = (0...(damaged.count - marker.count)).first(where: { Array(damaged[$0..<$0 + marker.count]) == marker }) else {
            return XCTFail("no epsilon in the stored config")
        }
        let digit = at + marker.count
        damaged[digit] = damaged[digit] == UInt8(ascii: "9") ? UInt8(ascii: "8") : UInt8(ascii: "9")
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("damaged.keras").path
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        XCTAssertNoThrow(try KerasArchiveReader.members(of: FixturePaths.url("keras/mini_resnet/keras3.keras").path))
        XCTAssertThrowsError(try Checkpoint.read(path)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.file, path)
            XCTAssertEqual(e?.place, "config.json")
            XCTAssertTrue(e?.problem.contains("CRC-32") ?? false, "\(error)")
        }
    }

    func testTwoMembersOfOneNameAreRefused() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("twice.keras")
        let archive = try Archive(url: path, accessMode: .create)
        for text in [#"{"a": 1}"#, #"{"a": 2}"#] {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: "config.json", type: .file, uncompressedSize: Int64(bytes.count)) { position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        XCTAssertThrowsError(try KerasArchiveReader.members(of: path.path)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.place, "config.json")
            XCTAssertTrue(e?.problem.contains("two members of this name") ?? false, "\(error)")
        }
    }

    /// A member that declares 1000 bytes and inflates to 200000 is stopped at what it declares.
    func testAMemberThatInflatesPastItsDeclaredSizeIsRefused() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bomb.keras")
        let archive = try Archive(url: path, accessMode: .create)
        let bytes = Data(repeating: UInt8(ascii: " "), count: 200_000)
        try archive.addEntry(with: "config.json", type: .file, uncompressedSize: Int64(bytes.count),
                             compressionMethod: .deflate) { position, size in
            bytes.subdata(in: Int(position)..<Int(position) + size)
        }
        // Declare 1000 bytes in the local header (offset 22) and the central directory (offset 24).
        var zip = [UInt8](try Data(contentsOf: path))
        func patch(signature: [UInt8], offset: Int) {
            guard let at = (0...(zip.count - 4)).first(where: { Array(zip[$0..<$0 + 4]) == signature }) else { return XCTFail("no \(signature)") }
            for (k, b) in withUnsafeBytes(of: UInt32(1000).littleEndian, Array.init).enumerated() { zip[at + offset + k] = b }
        }
        patch(signature: [0x50, 0x4B, 0x03, 0x04], offset: 22)
        patch(signature: [0x50, 0x4B, 0x01, 0x02], offset: 24)
        try Data(zip).write(to: path)
        XCTAssertThrowsError(try KerasArchiveReader.members(of: path.path)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.place, "config.json")
            XCTAssertEqual(e?.problem, "the zip member inflates to more than the 1000 bytes it declares", "\(error)")
        }
    }
}

