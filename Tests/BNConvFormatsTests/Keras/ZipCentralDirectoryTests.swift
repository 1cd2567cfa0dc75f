import Foundation
import XCTest
import ZIPFoundation
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport

/// The central-directory walk refuses archives whose entries do not describe their bytes
/// (zip structures from PKWARE's APPNOTE.TXT, written byte by byte here).
final class ZipCentralDirectoryTests: XCTestCase {
    private func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    private func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16 & 0xFFFF) }
    private func crc(_ data: [UInt8]) -> Int { Int(data.withUnsafeBytes { ZlibInflater.crc32($0) }) }

    private func local(_ name: String, _ data: [UInt8]) -> [UInt8] {
        u32(0x0403_4B50) + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(crc(data)) + u32(data.count) + u32(data.count)
            + u16(name.utf8.count) + u16(0) + Array(name.utf8) + data
    }

    private func central(_ name: String, _ data: [UInt8], offset: Int) -> [UInt8] {
        u32(0x0201_4B50) + u16(20) + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(crc(data)) + u32(data.count) + u32(data.count)
            + u16(name.utf8.count) + u16(0) + u16(0) + u16(0) + u16(0) + u32(0) + u32(offset) + Array(name.utf8)
    }

    private func end(count: Int, directorySize: Int, directoryOffset: Int) -> [UInt8] {
        u32(0x0605_4B50) + u16(0) + u16(0) + u16(count) + u16(count) + u32(directorySize) + u32(directoryOffset) + u16(0)
    }

    private func problem(_ bytes: [UInt8]) -> String? {
        do {
            _ = try bytes.withUnsafeBytes { try ZipCentralDirectory(bytes: $0, file: "x.keras") }
            return nil
        } catch let error as CheckpointError {
            return error.place.isEmpty ? error.problem : "\(error.place): \(error.problem)"
        } catch {
            return "\(error)"
        }
    }

    func testAWellFormedArchiveIsRead() throws {
        let a = Array("first".utf8), b = Array("second".utf8)
        let body = local("a", a) + local("b", b)
        let directory = central("a", a, offset: 0) + central("b", b, offset: local("a", a).count)
        let zip = body + directory + end(count: 2, directorySize: directory.count, directoryOffset: body.count)
        let members = try zip.withUnsafeBytes { try ZipCentralDirectory(bytes: $0, file: "x.keras") }.members
        XCTAssertEqual(members.map(\.path), ["a", "b"])
        XCTAssertEqual(members.map(\.dataOffset), [31, 31 + 31 + 5])
        // The fixture Keras wrote reads too.
        let fixture = try Data(contentsOf: FixturePaths.url("keras/mini_resnet/keras3.keras"))
        let names = try [UInt8](fixture).withUnsafeBytes { try ZipCentralDirectory(bytes: $0, file: "f") }.members.map(\.path)
        XCTAssertEqual(names, ["metadata.json", "config.json", "model.weights.h5"])
    }

    /// 40 names sharing one member's bytes were 40 inflations of it: a member whose bytes lie
    /// inside another's is refused. Here "b"'s local header is written inside "a"'s data.
    func testMembersThatShareBytesAreRefused() {
        let inner = Array("hidden".utf8)
        let a = local("b", inner)  // a's data is a complete member "b"
        let body = local("a", a)
        let bOffset = 30 + 1  // b's header starts where a's data does
        let directory = central("a", a, offset: 0) + central("b", inner, offset: bOffset)
        let zip = body + directory + end(count: 2, directorySize: directory.count, directoryOffset: body.count)
        XCTAssertEqual(problem(zip), "b: the member overlaps 'a' in the file (two directory entries share bytes)")
    }

    func testTooManyMembersAreRefusedBeforeAnyIsRead() {
        XCTAssertEqual(problem(end(count: 10_001, directorySize: 0, directoryOffset: 0)),
                       "the archive lists 10001 members, more than the 10000 bnconv reads")
    }

    func testALocalHeaderWithAnotherNameIsRefused() {
        let data = Array("x".utf8)
        let body = local("a", data)
        let directory = central("z", data, offset: 0)
        XCTAssertEqual(problem(body + directory + end(count: 1, directorySize: directory.count, directoryOffset: body.count)),
                       "z: the local header at byte 0 names a different member than the central directory")
    }

    func testDataRunningIntoTheDirectoryIsRefused() {
        let data = Array("abc".utf8)
        let body = local("a", data)
        var directory = central("a", data, offset: 0)
        // Declare 100 stored (and inflated) bytes: past the directory's start.
        directory.replaceSubrange(20..<28, with: u32(100) + u32(100))
        XCTAssertEqual(problem(body + directory + end(count: 1, directorySize: directory.count, directoryOffset: body.count)),
                       "a: the member's 100 stored bytes at byte 31 run into the central directory or past the file's end")
    }

    func testNotAZipArchive() {
        XCTAssertEqual(problem(Array(repeating: 0, count: 100)), "not a zip archive: no end-of-central-directory record")
        XCTAssertEqual(problem([1, 2, 3]), "not a zip archive: the file is 3 bytes, shorter than a zip end record")
    }

    /// A deflated member whose stream is cut (its stored size halved in both headers) is an error
    /// naming the member, not a loop.
    func testATruncatedDeflateStreamIsRefused() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.keras")
        let archive = try Archive(url: path, accessMode: .create)
        var generator = SystemRandomNumberGenerator()
        let bytes = Data((0..<20_000).map { _ in UInt8.random(in: 0...3, using: &generator) })
        try archive.addEntry(with: "config.json", type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
            bytes.subdata(in: Int(position)..<Int(position) + size)
        }
        var zip = [UInt8](try Data(contentsOf: path))
        let stored = Int(zip[18]) | Int(zip[19]) << 8 | Int(zip[20]) << 16
        let half = u32(stored / 2)
        zip.replaceSubrange(18..<22, with: half)
        let centralStart = try XCTUnwrap((0...(zip.count - 4)).first { Array(zip[$0..<$0 + 4]) == [0x50, 0x4B, 0x01, 0x02] })
        zip.replaceSubrange((centralStart + 20)..<(centralStart + 24), with: half)
        try Data(zip).write(to: path)
        XCTAssertThrowsError(try KerasArchiveReader.members(of: path.path)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.place, "config.json")
            XCTAssertEqual(e?.problem, "the member's deflate stream runs past its \(stored / 2) stored bytes (truncated)", "\(error)")
        }
    }

    /// An honest member that inflates 1000:1 is refused from its sizes (cap 100:1 by default),
    /// before anything is inflated; a raised `maxExpansion` reads it.
    func testAHighlyCompressedMemberIsRefusedByTheExpansionCap() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("zeros.keras")
        let archive = try Archive(url: path, accessMode: .create)
        let bytes = Data(count: 4 << 20)
        try archive.addEntry(with: "model.weights.h5", type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
            bytes.subdata(in: Int(position)..<Int(position) + size)
        }
        XCTAssertThrowsError(try KerasArchiveReader.members(of: path.path)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.place, "model.weights.h5")
            XCTAssertTrue(e?.problem.hasPrefix("the zip member declares 4194304 bytes, too many for its") ?? false, "\(error)")
        }
        let members = try KerasArchiveReader.members(of: path.path, limits: ReadLimits(maxExpansion: 10_000))
        XCTAssertEqual(members.first?.data.count, 4 << 20)
    }
}
