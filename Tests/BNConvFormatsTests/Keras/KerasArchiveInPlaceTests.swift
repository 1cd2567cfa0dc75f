@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest
import ZIPFoundation

/// A `.keras` read in place (``KerasArchiveReader/open(_:limits:)``): a STORED `model.weights.h5`
/// is opened by libhdf5 where it lies in the archive and gives the model the extracted copy
/// gives; a deflated one is inflated as before; a damaged one is refused by its CRC-32 before
/// libhdf5 reads a byte of it; deferred weights are lent from the archive, inside the member.
final class KerasArchiveInPlaceTests: XCTestCase {
    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Every `.keras` fixture (tf-keras and Keras 3).
    private func archives() throws -> [String] {
        let root = FixturePaths.url("keras")
        return try FileManager.default.contentsOfDirectory(atPath: root.path).sorted().flatMap { name in
            ["keras2.keras", "keras3.keras"].map { root.appendingPathComponent(name).appendingPathComponent($0).path }
        }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The model as bnconv read a `.keras` before: every member extracted into memory, the
    /// weights image copied into libhdf5 (architecture from the archive's config.json).
    private func extractedModel(_ path: String) throws -> Model {
        let members = try KerasArchiveReader.members(of: path)
        let weights = try XCTUnwrap(members.first { $0.path == "model.weights.h5" }).data
        return try KerasReader.readHDF5(image: weights, name: path + "/model.weights.h5", configPath: path)
    }

    private func assertSameWeights(_ a: Model, _ b: Model, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.nodes.map(\.name), b.nodes.map(\.name), "\(label): nodes", file: file, line: line)
        XCTAssertEqual(a.inputs, b.inputs, "\(label): inputs", file: file, line: line)
        XCTAssertEqual(a.outputs, b.outputs, "\(label): outputs", file: file, line: line)
        for (x, y) in zip(a.nodes, b.nodes) {
            XCTAssertEqual(x.op, y.op, "\(label) \(x.name): op", file: file, line: line)
            XCTAssertEqual(x.weights.map(\.role), y.weights.map(\.role), "\(label) \(x.name): roles", file: file, line: line)
            for (v, w) in zip(x.weights, y.weights) {
                XCTAssertEqual(v.storageKey, w.storageKey, "\(label) \(x.name)/\(v.role): storage", file: file, line: line)
                XCTAssertEqual(v.tensor.shape, w.tensor.shape, "\(label) \(x.name)/\(v.role): shape", file: file, line: line)
                XCTAssertEqual(try? v.tensor.materialized().bytes, try? w.tensor.materialized().bytes, "\(label) \(x.name)/\(v.role): bytes",
                               file: file, line: line)
            }
        }
    }

    func testAStoredArchiveIsReadInPlaceAndGivesTheExtractedModel() throws {
        let paths = try archives()
        XCTAssertGreaterThan(paths.count, 40)
        for path in paths {
            let label = path.split(separator: "/").suffix(2).joined(separator: "/")
            let archive = try KerasArchiveReader.open(path)
            XCTAssertEqual(archive.members.map(\.path), try KerasArchiveReader.members(of: path).map(\.path), label)
            for member in archive.members {
                guard case .inPlace = member.content else { XCTFail("\(label): \(member.path) was extracted"); continue }
            }
            let inPlace = try Checkpoint.read(path)
            XCTAssertEqual(inPlace.format, .kerasZip, label)
            assertSameWeights(inPlace, try extractedModel(path), label)
            // Deferred (a fold without verification): the same numbers, lent from the archive.
            assertSameWeights(try Checkpoint.read(path, deferringWeights: 0), inPlace, "\(label) deferred")
        }
    }

    /// The same archive with every member deflated (ZIPFoundation) is inflated and gives the same model.
    func testADeflatedArchiveIsInflatedAndGivesTheSameModel() throws {
        let source = FixturePaths.url("keras/mini_resnet/keras3.keras").path
        let dir = try scratch()
        let path = dir.appendingPathComponent("deflated.keras")
        let archive = try Archive(url: path, accessMode: .create)
        for member in try KerasArchiveReader.members(of: source) {
            let data = Data(member.data)
            try archive.addEntry(with: member.path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        let opened = try KerasArchiveReader.open(path.path)
        for member in opened.members {
            guard case .extracted = member.content else { XCTFail("\(member.path) was not inflated"); continue }
        }
        let expected = try Checkpoint.read(source)
        assertSameWeights(try Checkpoint.read(path.path), expected, "deflated")
        let deferred = try Checkpoint.read(path.path, deferringWeights: 0)
        assertSameWeights(deferred, expected, "deflated, deferred")
        // Nothing to lend from a mapping: deferred weights are read through libhdf5 when used.
        let kernel = try XCTUnwrap(deferred.nodes.lazy.compactMap { $0.weight(.kernel) }.first)
        let source2 = try XCTUnwrap(kernel.tensor.source as? KerasDatasetSource)
        XCTAssertNil(source2.raw)
    }

    /// One byte of the STORED weights changed: the archive's CRC-32 refuses it, naming the member,
    /// whether the weights are read or deferred (libhdf5 never sees the damaged bytes).
    func testADamagedWeightsMemberIsRefusedByItsCRC() throws {
        let source = FixturePaths.url("keras/mini_resnet/keras3.keras").path
        let archive = try KerasArchiveReader.open(source)
        guard case .inPlace(let offset, let count)? = archive.member(named: "model.weights.h5")?.content else {
            return XCTFail("the fixture's weights are not STORED")
        }
        let dir = try scratch()
        for at in [offset, offset + count / 2, offset + count - 1] {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
            bytes[at] ^= 0x10
            let path = dir.appendingPathComponent("damaged-\(at).keras").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for deferring in [nil, 0] as [Int?] {
                XCTAssertThrowsError(try Checkpoint.read(path, deferringWeights: deferring)) { error in
                    let e = error as? CheckpointError
                    XCTAssertEqual(e?.file, path)
                    XCTAssertEqual(e?.place, "model.weights.h5")
                    XCTAssertTrue(e?.problem.contains("CRC-32") ?? false, "\(error)")
                }
            }
        }
    }

    /// Deferred weights are lent from the archive's file at the member's offset plus the dataset's,
    /// and never from outside the member: a dataset said to lie past the member's end is read
    /// through libhdf5 instead.
    func testDeferredWeightsAreLentFromInsideTheMember() throws {
        let path = FixturePaths.url("keras/mini_resnet/keras3.keras").path
        let archive = try KerasArchiveReader.open(path)
        guard case .inPlace(let offset, let count)? = archive.member(named: "model.weights.h5")?.content else {
            return XCTFail("the fixture's weights are not STORED")
        }
        let model = try Checkpoint.read(path, deferringWeights: 0)
        var lent = 0
        for node in model.nodes {
            for weight in node.weights {
                XCTAssertTrue(weight.tensor.isDeferred, "\(node.name)/\(weight.role)")
                guard let source = weight.tensor.source as? KerasDatasetSource, let raw = source.raw else { continue }
                XCTAssertTrue(raw.offset >= offset && raw.offset + raw.count <= offset + count, "\(node.name)/\(weight.role)")
                XCTAssertTrue(weight.tensor.loadsConcurrently)
                lent += 1
            }
        }
        XCTAssertGreaterThan(lent, 10)

        let file = try HDF5File.open(lending: UnsafeRawBufferPointer(rebasing: archive.mapping.bytes[offset..<(offset + count)]), owner: archive,
                                     name: path + "/model.weights.h5")
        let dataset = try file.root().dataset("layers/conv2d/vars/0")
        let creation = try dataset.creation()
        let extent = try dataset.extent(creation: creation)
        let whole = KerasWeightDeferral(file: path, minimumBytes: 0, mapping: archive.file, baseOffset: offset, length: count)
        let inside = try XCTUnwrap(whole.tensor(for: dataset, extent: extent, creation: creation, in: file, limits: ReadLimits())?.source as? KerasDatasetSource)
        XCTAssertNotNil(inside.raw)
        let start = try XCTUnwrap(dataset.rawFileOffset(dtype: extent.dtype, byteCount: extent.byteCount, creation: creation))
        let cut = KerasWeightDeferral(file: path, minimumBytes: 0, mapping: archive.file, baseOffset: offset, length: start + extent.byteCount - 1)
        let outside = try XCTUnwrap(cut.tensor(for: dataset, extent: extent, creation: creation, in: file, limits: ReadLimits())?.source as? KerasDatasetSource)
        XCTAssertNil(outside.raw, "not lent from past the member's end")
    }
}
