@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvInterop
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest
@preconcurrency @testable import ZIPFoundation

/// The streamed `.keras` writer (``KerasArchiveWriter``): the archive is the one ZIPFoundation
/// wrote before, byte for byte, its `model.weights.h5` is the image the in-memory HDF5 writer
/// made (apart from libhdf5's object times), whether the weights were in memory or deferred and
/// written beside libhdf5; and it reads back.
final class KerasArchiveWriterTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// The members of `path` in order: name, bytes, modification date (as ZIPFoundation reads it).
    private func members(_ path: URL) throws -> [(path: String, data: Data, date: Date)] {
        let archive = try Archive(url: path, accessMode: .read)
        return try archive.map { entry in
            var data = Data()
            _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
            return (entry.path, data, try XCTUnwrap(entry.fileAttributes[.modificationDate] as? Date))
        }
    }

    /// The archive ZIPFoundation writes for `members` (STORED, each with its date).
    private func zipFoundationArchive(_ members: [(path: String, data: Data, date: Date)], at url: URL) throws -> [UInt8] {
        let archive = try Archive(url: url, accessMode: .create)
        for member in members {
            try archive.addEntry(with: member.path, type: .file, uncompressedSize: Int64(member.data.count), modificationDate: member.date,
                                 compressionMethod: .none) { position, size in
                member.data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
        return [UInt8](try Data(contentsOf: url))
    }

    /// The folded model of a fixture, read eagerly or with every weight deferred (as `fold
    /// --no-verify` reads it), folded the way that read calls for.
    private func folded(_ path: String, deferred: Bool) throws -> Model {
        let model = try Checkpoint.read(path, deferringWeights: deferred ? 0 : nil)
        return try FoldBatchNorm(keep: [], checksDeferredKernelsWhenWritten: deferred).apply(to: model).model
    }

    /// The weights image the in-memory writer made before the archive was streamed.
    private func inMemoryImage(of model: Model) throws -> [UInt8] {
        let record = try XCTUnwrap(model.source as? KerasModelRecord)
        let edits = try KerasModelEdits(model: model, record: record, changes: try XCTUnwrap(ModelChanges(model)))
        let config = try KerasConfigRewriter(edits: edits).rewrite(try XCTUnwrap(record.config))
        let file = try HDF5File.createInMemory(name: "memory.h5")
        try KerasStoreWriter(edits: edits, container: try KerasContainer(model: config, place: "config")).write(to: file)
        let image = try file.image()
        try file.close()
        return image
    }

    func testTheStreamedArchiveIsZIPFoundationsWithTheInMemoryWeightsImage() throws {
        let dir = try scratch()
        for fixture in ["mini_resnet", "nested", "separable_bn", "mixed_bfloat16"] {
            for flavour in ["keras3", "keras2"] {
                let input = FixturePaths.url("keras/\(fixture)/\(flavour).keras").path
                guard FileManager.default.fileExists(atPath: input) else { continue }
                for deferred in [false, true] {
                    let label = "\(fixture)/\(flavour)\(deferred ? " deferred" : "")"
                    let started = HDF5TestSupport.now
                    let model = try folded(input, deferred: deferred)
                    let out = dir.appendingPathComponent("\(fixture)-\(flavour)-\(deferred).keras")
                    try Checkpoint.write(model, to: out.path)
                    let image = try inMemoryImage(of: try folded(input, deferred: false))
                    let times = (started - 1)...(HDF5TestSupport.now + 1)

                    let written = [UInt8](try Data(contentsOf: out))
                    let parts = try members(out)
                    XCTAssertEqual(parts.map(\.path), ["metadata.json", "config.json", "model.weights.h5"], label)
                    XCTAssertEqual(try zipFoundationArchive(parts, at: dir.appendingPathComponent("zf.keras")), written, "\(label): the archive")
                    try FileManager.default.removeItem(at: dir.appendingPathComponent("zf.keras"))
                    let weights = [UInt8](try XCTUnwrap(parts.last).data)
                    XCTAssertEqual(HDF5TestSupport.differencesApartFromTimes(weights, image, times: times), [], "\(label): the weights member")
                    let back = try Checkpoint.read(out.path)
                    XCTAssertEqual(back.nodes.map(\.name), model.nodes.map(\.name), label)
                    XCTAssertEqual(try KerasArchiveReader.members(of: out.path).map(\.path), parts.map(\.path), label)
                }
            }
        }
    }

    /// The zip64 records (sizes and offsets of 4 GiB or more, 65535 entries or more) are those
    /// ZIPFoundation writes; compared with both thresholds lowered so that small members cross them.
    func testZip64RecordsAreZIPFoundations() throws {
        let dir = try scratch()
        let saved = (ZIPFoundation.maxUInt32, ZIPFoundation.maxUInt16)
        defer { (ZIPFoundation.maxUInt32, ZIPFoundation.maxUInt16) = saved }
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let (dosDate, dosTime) = ZipStoredEntry.dosDateTime(date)
        let members: [(path: String, data: Data, date: Date)] = [("a.json", Data("{}".utf8), date),
                                                                 ("model.weights.h5", Data((0..<700).map { UInt8($0 % 251) }), date),
                                                                 ("assets/x.txt", Data(repeating: 7, count: 90), date),
                                                                 ("b", Data(), date)]
        for (limit32, limit16) in [(UInt32(500), UInt16(100)), (UInt32(100_000), UInt16(3)), (UInt32(800), UInt16(100)), (UInt32(60), UInt16(2))] {
            (ZIPFoundation.maxUInt32, ZIPFoundation.maxUInt16) = (limit32, limit16)
            let expected = try zipFoundationArchive(members, at: dir.appendingPathComponent("zf-\(limit32)-\(limit16).zip"))
            var bytes: [UInt8] = [], entries: [ZipStoredEntry] = []
            for member in members {
                let data = [UInt8](member.data)
                let entry = ZipStoredEntry(name: Array(member.path.utf8), crc32: data.withUnsafeBytes { CRC32.of($0) }, size: UInt64(data.count),
                                           dosDate: dosDate, dosTime: dosTime, headerOffset: UInt64(bytes.count), zip64From: UInt64(limit32))
                bytes += entry.localHeader + data
                entries.append(entry)
            }
            let directory = entries.flatMap(\.centralRecord)
            bytes += directory + ZipStoredEntry.directoryEnd(count: entries.count, size: UInt64(directory.count), offset: UInt64(bytes.count),
                                                             zip64From: UInt64(limit32), zip64EntriesFrom: UInt64(limit16))
            XCTAssertEqual(bytes, expected, "thresholds \(limit32), \(limit16)")
        }
    }

    /// Dates go to MS-DOS fields as ZIPFoundation puts them (UTC, years clamped, seconds halved).
    func testDOSDatesAreZIPFoundations() {
        for seconds in [0, 315_532_800, 315_532_801, 1_700_000_001, 4_200_000_000, -86_400] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            let ours = ZipStoredEntry.dosDateTime(date)
            XCTAssertEqual(ours.date, date.fileModificationDate, "\(seconds)")
            XCTAssertEqual(ours.time, date.fileModificationTime, "\(seconds)")
        }
    }

    /// A failed write leaves nothing behind and names the target.
    func testAFailedWriteNamesTheTargetAndLeavesNothing() throws {
        let dir = try scratch()
        let model = try folded(FixturePaths.url("keras/mini_resnet/keras3.keras").path, deferred: true)
        let out = dir.appendingPathComponent("missing/out.keras").path
        XCTAssertThrowsError(try Checkpoint.write(model, to: out)) { error in
            XCTAssertEqual((error as? CheckpointError)?.file, out, "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }
}
