import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Writing bundles: TensorFlow's single-shard bundles copied key by key in storage order come out
/// byte for byte (index and data), and so do they when every tensor is written from its decoded
/// value; a two-shard bundle becomes one data file holding the two shards' bytes in order; one
/// tensor changed leaves every other stored byte as it was; a failed write leaves nothing behind.
///
/// With BNCONV_BUNDLE_OUT set, the round trips are also written under that folder for
/// `tools/interop/check_bundle.py` (TensorFlow restores them and compares every value).
final class TensorBundleWriterTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = try FixturePaths.scratchDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    private func copiedItems(_ bundle: TensorBundle) -> [TensorBundleItem] {
        bundle.keysInStorageOrder.map { TensorBundleItem(key: $0, content: .copied(from: bundle, key: $0)) }
    }

    /// Every value of `written` equals the same key's of `original` (TensorFlow's reading of it).
    private func assertSameValues(_ written: TensorBundle, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try TensorBundleFixtures.expected(name)
        XCTAssertEqual(written.keys, expected.map(\.key), file: file, line: line)
        for e in expected {
            if let strings = e.strings {
                XCTAssertEqual(try written.strings(e.key), strings, "\(name): \(e.key)", file: file, line: line)
            } else {
                XCTAssertEqual(try written.tensor(e.key).materialized().bytes, e.bytes, "\(name): \(e.key)", file: file, line: line)
            }
        }
    }

    func testCopyingEveryKeyGivesTensorFlowsFilesByteForByte() throws {
        for name in ["dtypes", "partitioned", "many_keys"] {
            let source = try TensorBundle(prefix: TensorBundleFixtures.prefix(name))
            let prefix = scratch.appendingPathComponent("\(name)/model.ckpt").path
            try FileManager.default.createDirectory(atPath: (prefix as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try TensorBundleWriter.write(prefix: prefix, items: copiedItems(source))
            XCTAssertEqual(try bytes(prefix + ".index"), try bytes(source.prefix + ".index"), name)
            XCTAssertEqual(try bytes(prefix + ".data-00000-of-00001"), try bytes(source.prefix + ".data-00000-of-00001"), name)
            try assertSameValues(try TensorBundle(prefix: prefix), name)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (prefix as NSString).deletingLastPathComponent).sorted(),
                           ["model.ckpt.data-00000-of-00001", "model.ckpt.index"], name)
        }
    }

    /// Written from decoded values (`.tensor` and `.strings`), not copied: the same bytes again, so
    /// the encoders (raw tensors, string lengths and both string checksums) are TensorFlow's.
    func testWritingDecodedValuesGivesTensorFlowsFilesByteForByte() throws {
        let source = try TensorBundle(prefix: TensorBundleFixtures.prefix("dtypes"))
        let items = try source.keysInStorageOrder.map { key -> TensorBundleItem in
            let entry = try XCTUnwrap(source.entry(key))
            if entry.dataType == 7 { return TensorBundleItem(key: key, content: .strings(try source.strings(key), shape: entry.shape)) }
            return TensorBundleItem(key: key, content: .tensor(try source.tensor(key)))
        }
        let prefix = scratch.appendingPathComponent("model.ckpt").path
        try TensorBundleWriter.write(prefix: prefix, items: items)
        XCTAssertEqual(try bytes(prefix + ".index"), try bytes(source.prefix + ".index"))
        XCTAssertEqual(try bytes(prefix + ".data-00000-of-00001"), try bytes(source.prefix + ".data-00000-of-00001"))
    }

    /// Two shards become one data file: the shards' bytes one after the other (storage order), each
    /// entry's message as TensorFlow wrote it but for shard and offset, and every value the same.
    func testATwoShardBundleBecomesOneDataFile() throws {
        let source = try TensorBundle(prefix: TensorBundleFixtures.prefix("sharded"))
        let prefix = scratch.appendingPathComponent("model.ckpt").path
        try TensorBundleWriter.write(prefix: prefix, items: copiedItems(source))
        XCTAssertEqual(try bytes(prefix + ".data-00000-of-00001"),
                       try bytes(source.prefix + ".data-00000-of-00002") + bytes(source.prefix + ".data-00001-of-00002"))
        let written = try TensorBundle(prefix: prefix)
        XCTAssertEqual(written.header.numShards, 1)
        for key in source.keys {
            var before = try XCTUnwrap(source.index.record(Array(key.utf8))).message
            let after = try XCTUnwrap(written.index.record(Array(key.utf8))).message
            (before.shardID, before.offset) = (after.shardID, after.offset)
            XCTAssertEqual(before, after, key)
        }
        try assertSameValues(written, "sharded")
    }

    func testOneTensorChangedLeavesTheOthersByteForByte() throws {
        let source = try TensorBundle(prefix: TensorBundleFixtures.prefix("dtypes"))
        let changedKey = try XCTUnwrap(source.keys.first { source.entry($0)?.dataType == 1 && source.entry($0)?.shape == [3, 4] })
        let changed = Tensor(shape: [3, 4], floats: (0..<12).map { Float($0) / 4 })
        var items = copiedItems(source)
        let position = try XCTUnwrap(items.firstIndex { $0.key == changedKey })
        items[position] = TensorBundleItem(key: changedKey, content: .tensor(changed))
        let prefix = scratch.appendingPathComponent("model.ckpt").path
        try TensorBundleWriter.write(prefix: prefix, items: items)
        let written = try TensorBundle(prefix: prefix)
        XCTAssertEqual(try written.tensor(changedKey).materialized(), changed)
        for key in source.keys where key != changedKey {
            XCTAssertEqual(try written.storedBytes(key), try source.storedBytes(key), key)
            var entry = try XCTUnwrap(source.entry(key))
            entry.offset = try XCTUnwrap(written.entry(key)).offset
            XCTAssertEqual(written.entry(key), entry, key)
        }
        // Same size, same place: the data file differs only in the changed tensor's bytes.
        let before = try bytes(source.prefix + ".data-00000-of-00001"), after = try bytes(prefix + ".data-00000-of-00001")
        let range = try XCTUnwrap(written.entry(changedKey)).offset..<(try XCTUnwrap(written.entry(changedKey)).offset + 48)
        XCTAssertEqual(before.count, after.count)
        XCTAssertEqual(before.indices.filter { before[$0] != after[$0] }.allSatisfy { range.contains($0) }, true)
    }

    func testNewTensorsOfEveryDTypeReadBack() throws {
        let prefix = scratch.appendingPathComponent("new/model.ckpt").path
        try FileManager.default.createDirectory(atPath: (prefix as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var items: [TensorBundleItem] = []
        for (i, dtype) in DType.allCases.enumerated() {
            let count = 3 + i
            let raw = (0..<(count * dtype.byteCount)).map { UInt8(truncatingIfNeeded: $0 * 37 + i) }.map { dtype == .bool ? $0 & 1 : $0 }
            items.append(TensorBundleItem(key: "t/\(dtype.rawValue)", content: .tensor(try Tensor(dtype: dtype, shape: [count], bytes: raw))))
        }
        items.append(TensorBundleItem(key: "s", content: .strings([[], [0, 0xFF], Array("naïve".utf8), [UInt8](repeating: 7, count: 200)], shape: [2, 2])))
        items.append(TensorBundleItem(key: "scalar", content: .tensor(Tensor(shape: [], floats: [1.5]))))
        items.append(TensorBundleItem(key: "empty", content: .tensor(Tensor(shape: [0, 4], floats: []))))
        try TensorBundleWriter.write(prefix: prefix, items: items)
        let bundle = try TensorBundle(prefix: prefix)
        XCTAssertEqual(bundle.keys, items.map(\.key).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        for item in items {
            switch item.content {
            case .tensor(let t): XCTAssertEqual(try bundle.tensor(item.key).materialized(), t, item.key)
            case .strings(let s, let shape):
                XCTAssertEqual(try bundle.strings(item.key), s)
                XCTAssertEqual(bundle.entry(item.key)?.shape, shape)
            case .copied: XCTFail()
            }
        }
    }

    func testBadItemsAndFailedWritesLeaveNothingBehind() throws {
        let prefix = scratch.appendingPathComponent("model.ckpt").path
        let t = Tensor(shape: [1], floats: [1])
        XCTAssertThrowsError(try TensorBundleWriter.write(prefix: prefix, items: [TensorBundleItem(key: "", content: .tensor(t))]))
        XCTAssertThrowsError(try TensorBundleWriter.write(prefix: prefix, items: [TensorBundleItem(key: "a", content: .tensor(t)), TensorBundleItem(key: "a", content: .tensor(t))]))
        XCTAssertThrowsError(try TensorBundleWriter.write(prefix: prefix, items: [TensorBundleItem(key: "s", content: .strings([[1]], shape: [2]))]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [])

        // A copy from a damaged data file fails its checksum midway: nothing is written, and a
        // bundle already at the prefix stays as it was.
        try TensorBundleWriter.write(prefix: prefix, items: [TensorBundleItem(key: "old", content: .tensor(t))])
        let oldIndex = try bytes(prefix + ".index"), oldData = try bytes(prefix + ".data-00000-of-00001")
        let damaged = scratch.appendingPathComponent("damaged").path
        try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: true)
        for file in try TensorBundleFixtures.bundleFiles("dtypes") {
            var content = try bytes(TensorBundleFixtures.folder("dtypes").appendingPathComponent(file).path)
            if file.contains(".data-") { content[content.count - 1] ^= 1 }
            try FileBytes.create(damaged + "/" + file, bytes: content)
        }
        let source = try TensorBundle(prefix: damaged + "/model.ckpt")
        XCTAssertThrowsError(try TensorBundleWriter.write(prefix: prefix, items: copiedItems(source))) { error in
            XCTAssertTrue("\(error)".contains("checksum mismatch"), "\(error)")
        }
        XCTAssertEqual(try bytes(prefix + ".index"), oldIndex)
        XCTAssertEqual(try bytes(prefix + ".data-00000-of-00001"), oldData)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted(), ["damaged", "model.ckpt.data-00000-of-00001", "model.ckpt.index"])
    }

    /// With BNCONV_BUNDLE_OUT=DIR: writes DIR/CASE/model.ckpt.* (every fixture copied key by key, and
    /// `dtypes` written from decoded values as DIR/dtypes_decoded) with the fixture's values.json,
    /// for `tools/interop/check_bundle.py DIR/CASE/model.ckpt DIR/CASE`.
    func testWritesBundlesForTensorFlowToRestore() throws {
        guard let out = ProcessInfo.processInfo.environment["BNCONV_BUNDLE_OUT"] else { throw XCTSkip("set BNCONV_BUNDLE_OUT=DIR to write bundles for tools/interop/check_bundle.py") }
        for name in TensorBundleFixtures.cases {
            let source = try TensorBundle(prefix: TensorBundleFixtures.prefix(name))
            for (folder, items) in [(name, copiedItems(source))] + (name == "dtypes" ? [("dtypes_decoded", try decodedItems(source))] : []) {
                let dir = URL(fileURLWithPath: out).appendingPathComponent(folder)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try TensorBundleWriter.write(prefix: dir.appendingPathComponent("model.ckpt").path, items: items)
                try? FileManager.default.removeItem(at: dir.appendingPathComponent("values.json"))
                try FileManager.default.copyItem(at: TensorBundleFixtures.folder(name).appendingPathComponent("values.json"),
                                                 to: dir.appendingPathComponent("values.json"))
            }
        }
    }

    private func decodedItems(_ source: TensorBundle) throws -> [TensorBundleItem] {
        try source.keys.map { key in
            let entry = try XCTUnwrap(source.entry(key))
            if entry.dataType == 7 { return TensorBundleItem(key: key, content: .strings(try source.strings(key), shape: entry.shape)) }
            return TensorBundleItem(key: key, content: .tensor(try source.tensor(key).materialized()))
        }
    }
}
