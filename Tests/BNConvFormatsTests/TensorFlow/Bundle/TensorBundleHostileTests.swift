import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Damaged and hostile bundles end in a CheckpointError that names the file (the index or the data
/// file), the key and the problem; nothing crashes and nothing large is allocated.
final class TensorBundleHostileTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws { scratch = try FixturePaths.scratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// A copy of fixture `name` in the scratch folder, each file passed through `edit`; its prefix.
    private func copy(_ name: String, edit: (String, inout [UInt8]) throws -> Void = { _, _ in }) throws -> String {
        let dir = scratch.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for file in try TensorBundleFixtures.bundleFiles(name) {
            var content = try bytes(TensorBundleFixtures.folder(name).appendingPathComponent(file).path)
            try edit(file, &content)
            try FileBytes.create(dir.appendingPathComponent(file).path, bytes: content)
        }
        return dir.appendingPathComponent("model.ckpt").path
    }

    /// A bundle whose index holds `entries` (encoded messages under keys) after a header of
    /// `header`, and whose single data file holds `data`; its prefix.
    private func bundle(entries: [(String, ProtobufBundleEntry)], header: ProtobufBundleHeader = ProtobufBundleHeader(numShards: 1), data: [UInt8]) throws -> String {
        var table = TableWriter()
        table.add(key: [], value: header.encoded())
        for (key, entry) in entries.sorted(by: { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }) {
            table.add(key: Array(key.utf8), value: entry.encoded())
        }
        let prefix = scratch.appendingPathComponent("crafted-\(UUID().uuidString)/model.ckpt").path
        try FileManager.default.createDirectory(atPath: (prefix as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileBytes.create(prefix + ".index", bytes: table.finish())
        try FileBytes.create(prefix + ".data-00000-of-00001", bytes: data)
        return prefix
    }

    private func floats(_ n: Int) -> [UInt8] { (0..<n).flatMap { withUnsafeBytes(of: Float($0)) { Array($0) } } }

    private func entry(shape: [Int64], dtype: Int32 = 1, offset: Int64 = 0, size: Int64, of data: [UInt8]) -> ProtobufBundleEntry {
        let bytes = data.count >= Int(offset) + Int(min(size, Int64(data.count))) ? Array(data[Int(offset)..<min(data.count, Int(offset + min(size, Int64(data.count))))]) : []
        return ProtobufBundleEntry(dtype: dtype, shape: shape, offset: offset, size: size, crc32c: CRC32C.masked(CRC32C.value(bytes)))
    }

    private func assertFails<T>(_ body: @autoclosure () throws -> T, file expectedFile: String, place: String? = nil, contains text: String,
                                kind: CheckpointError.Kind? = nil, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard let e = error as? CheckpointError else { return XCTFail("not a CheckpointError: \(error)", line: line) }
            XCTAssertTrue(e.file.hasSuffix(expectedFile), "file \(e.file), expected …\(expectedFile)", line: line)
            if let place { XCTAssertEqual(e.place, place, line: line) }
            XCTAssertTrue(e.description.contains(text), "\(e.description) lacks '\(text)'", line: line)
            if let kind { XCTAssertEqual(e.kind, kind, line: line) }
        }
    }

    func testATruncatedIndex() throws {
        for cut in [0, 1, 30, 47, 100, 400] {
            let prefix = try copy("dtypes") { name, content in if name.hasSuffix(".index") { content = Array(content[..<min(cut, content.count)]) } }
            XCTAssertThrowsError(try TensorBundle(prefix: prefix), "cut \(cut)") { error in
                XCTAssertTrue((error as? CheckpointError)?.file.hasSuffix("model.ckpt.index") == true, "\(error)")
            }
            try FileManager.default.removeItem(atPath: (prefix as NSString).deletingLastPathComponent)
        }
        let prefix = try copy("dtypes") { name, content in if name.hasSuffix(".index") { content.removeLast(10) } }
        assertFails(try TensorBundle(prefix: prefix), file: "model.ckpt.index", contains: "magic")
    }

    func testAFlippedByteInABlock() throws {
        let prefix = try copy("dtypes") { name, content in if name.hasSuffix(".index") { content[20] ^= 0x10 } }
        assertFails(try TensorBundle(prefix: prefix), file: "model.ckpt.index", contains: "block checksum mismatch")
    }

    func testAWrongFooterMagic() throws {
        let prefix = try copy("dtypes") { name, content in if name.hasSuffix(".index") { content[content.count - 3] ^= 1 } }
        assertFails(try TensorBundle(prefix: prefix), file: "model.ckpt.index", contains: "magic number")
    }

    func testAFlippedByteInTheData() throws {
        let prefix = try copy("dtypes") { name, content in if name.contains(".data-") { content[10] ^= 1 } }
        let bundle = try TensorBundle(prefix: prefix)
        var failures = 0
        for key in bundle.keys {
            do {
                if bundle.entry(key)?.dataType == 7 { _ = try bundle.strings(key) } else { _ = try bundle.tensor(key) }
            } catch let error as CheckpointError {
                failures += 1
                XCTAssertTrue(error.file.hasSuffix("model.ckpt.data-00000-of-00001"), error.description)
                XCTAssertEqual(error.place, key)
                XCTAssertTrue(error.problem.contains("checksum"), error.description)
            }
        }
        XCTAssertEqual(failures, 1)
    }

    func testAMissingShard() throws {
        let prefix = try copy("sharded")
        try FileManager.default.removeItem(atPath: prefix + ".data-00001-of-00002")
        let bundle = try TensorBundle(prefix: prefix)
        let key = try XCTUnwrap(bundle.keys.first { bundle.entry($0)?.shardID == 1 })
        assertFails(try bundle.tensor(key), file: "model.ckpt.data-00001-of-00002", contains: "missing data file model.ckpt.data-00001-of-00002", kind: .cannotOpen)
        let other = try XCTUnwrap(bundle.keys.first { bundle.entry($0)?.shardID == 0 })
        XCTAssertNoThrow(try bundle.tensor(other))
    }

    func testATruncatedDataFile() throws {
        let prefix = try copy("dtypes") { name, content in if name.contains(".data-") { content.removeLast(3) } }
        let bundle = try TensorBundle(prefix: prefix)
        let last = try XCTUnwrap(bundle.keysInStorageOrder.last)
        let read = { bundle.entry(last)?.dataType == 7 ? try bundle.strings(last).count : try bundle.tensor(last).count }
        assertFails(try read(), file: "model.ckpt.data-00000-of-00001", place: last, contains: "lie past the end")
    }

    func testAnOffsetPastTheShardsEnd() throws {
        let data = floats(4)
        var e = entry(shape: [4], size: 16, of: data)
        e.offset = 8
        let prefix = try bundle(entries: [("w", e)], data: data)
        assertFails(try TensorBundle(prefix: prefix).tensor("w"), file: "model.ckpt.data-00000-of-00001", place: "w", contains: "bytes 8..<24 lie past the end of the 16-byte data file")
    }

    func testASizeThatDisagreesWithDTypeAndShape() throws {
        let data = floats(4)
        let prefix = try bundle(entries: [("w", entry(shape: [5], size: 16, of: data)), ("s", entry(shape: [3], dtype: 7, size: 4, of: data))], data: data)
        let bundle = try TensorBundle(prefix: prefix)
        assertFails(try bundle.tensor("w"), file: "model.ckpt.index", place: "w", contains: "size is 16 bytes, but DT_FLOAT [5] takes 20 bytes")
        assertFails(try bundle.storedBytes("w"), file: "model.ckpt.index", place: "w", contains: "takes 20 bytes")
        assertFails(try bundle.strings("s"), file: "model.ckpt.index", place: "s", contains: "less than 3 strings")
    }

    func testHugeDeclaredSizesAndShapes() throws {
        let data = floats(4)
        let prefix = try bundle(entries: [
            ("size", entry(shape: [1 << 60], size: Int64(1) << 62, of: data)),
            ("overflow", entry(shape: [1 << 40, 1 << 40], size: 16, of: data)),
            ("strings", entry(shape: [1 << 40], dtype: 7, size: 1 << 41, of: data)),
        ], data: data)
        assertFails(try TensorBundle(prefix: prefix), file: "model.ckpt.index", place: "overflow", contains: "more elements than fit")
        let prefix2 = try bundle(entries: [
            ("size", entry(shape: [1 << 60], size: Int64(1) << 62, of: data)),
            ("strings", entry(shape: [1 << 40], dtype: 7, size: 1 << 41, of: data)),
            ("negative", ProtobufBundleEntry(dtype: 1, shape: [2], offset: -4, size: 8)),
        ], data: data)
        assertFails(try TensorBundle(prefix: prefix2), file: "model.ckpt.index", place: "negative", contains: "invalid stored range")
        let prefix3 = try bundle(entries: [
            ("size", entry(shape: [1 << 60], size: Int64(1) << 62, of: data)),
            ("bytes", entry(shape: [1 << 62], size: 16, of: data)),
            ("strings", entry(shape: [1 << 40], dtype: 7, size: 1 << 41, of: data)),
        ], data: data)
        let bundle = try TensorBundle(prefix: prefix3)
        assertFails(try bundle.tensor("bytes"), file: "model.ckpt.index", place: "bytes", contains: "takes more than")
        assertFails(try bundle.tensor("size"), file: "model.ckpt.data-00000-of-00001", place: "size", contains: "lie past the end of the 16-byte data file")
        assertFails(try bundle.strings("strings"), file: "model.ckpt.data-00000-of-00001", place: "strings", contains: "lie past the end")
    }

    func testHostileStringTensors() throws {
        // Lengths running off the end, a bad length checksum, lengths that do not add up.
        let good = TensorBundleStrings.encode([Array("ab".utf8), Array("c".utf8)])
        var badChecksum = good.bytes
        badChecksum[2] ^= 1
        let cases: [([UInt8], String)] = [
            ([0x80, 0x80, 0x80, 0x80, 0x80, 0x80], "runs past"),
            (badChecksum, "checksum of the string lengths"),
            (Array(good.bytes.dropLast()), "add up to 3 bytes, but 2 follow"),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0, 0, 0], "declares 4294967295 bytes"),
        ]
        for (data, text) in cases {
            let prefix = try bundle(entries: [("s", ProtobufBundleEntry(dtype: 7, shape: [2], size: Int64(data.count), crc32c: CRC32C.masked(good.crc)))], data: data)
            assertFails(try TensorBundle(prefix: prefix).strings("s"), file: "model.ckpt.data-00000-of-00001", place: "s", contains: text)
        }
        // An empty string tensor stored as nothing at all is read as TensorFlow reads it.
        let empty = try bundle(entries: [("e", ProtobufBundleEntry(dtype: 7, shape: [0], size: 0, crc32c: CRC32C.masked(0)))], data: [])
        XCTAssertEqual(try TensorBundle(prefix: empty).strings("e"), [])
        let prefix = try bundle(entries: [("s", ProtobufBundleEntry(dtype: 7, shape: [2], size: Int64(good.bytes.count), crc32c: CRC32C.masked(good.crc ^ 1)))], data: good.bytes)
        assertFails(try TensorBundle(prefix: prefix).strings("s"), file: "model.ckpt.data-00000-of-00001", place: "s", contains: "checksum mismatch")
    }

    func testUnknownDTypesBigEndianAndBadVersions() throws {
        let data = floats(4)
        let prefix = try bundle(entries: [("c", ProtobufBundleEntry(dtype: 8, shape: [2], size: 16, crc32c: CRC32C.masked(CRC32C.value(data))))], data: data)
        let bundle = try TensorBundle(prefix: prefix)
        assertFails(try bundle.tensor("c"), file: "model.ckpt.index", place: "c", contains: "DT_COMPLEX64 is not one bnconv reads", kind: .unsupported)
        XCTAssertEqual(try bundle.storedBytes("c"), data)
        // Copied unchanged all the same.
        let out = scratch.appendingPathComponent("copy").path
        try TensorBundleWriter.write(prefix: out, items: [TensorBundleItem(key: "c", content: .copied(from: bundle, key: "c"))])
        XCTAssertEqual(try TensorBundle(prefix: out).entry("c")?.dataType, 8)

        let big = try self.bundle(entries: [], header: ProtobufBundleHeader(numShards: 1, endianness: 1), data: [])
        assertFails(try TensorBundle(prefix: big), file: "model.ckpt.index", contains: "big-endian", kind: .unsupported)
        let newer = try self.bundle(entries: [], header: ProtobufBundleHeader(numShards: 1, minConsumer: 2), data: [])
        assertFails(try TensorBundle(prefix: newer), file: "model.ckpt.index", contains: "version", kind: .unsupported)
        let badShard = try self.bundle(entries: [("w", ProtobufBundleEntry(dtype: 1, shape: [1], shardID: 3, size: 4))], data: [])
        assertFails(try TensorBundle(prefix: badShard), file: "model.ckpt.index", place: "w", contains: "shard 3 of a bundle of 1")
    }

    func testSlicesThatDoNotTile() throws {
        let data = floats(16)
        // Slice keys are not text: the bundle is built with raw keys (craftedSlices).
        let overlap = try craftedSlices([[TensorSliceExtent(start: 0, length: 3), .full], [TensorSliceExtent(start: 2, length: 2), .full]], data: data)
        assertFails(try TensorBundle(prefix: overlap).tensor("p"), file: "model.ckpt.index", place: "p", contains: "covers element 4 again")
        let gap = try craftedSlices([[TensorSliceExtent(start: 0, length: 1), .full], [TensorSliceExtent(start: 2, length: 2), .full]], data: data)
        assertFails(try TensorBundle(prefix: gap).tensor("p"), file: "model.ckpt.index", place: "p", contains: "cover 6 of its 8 elements")
        let outside = try craftedSlices([[TensorSliceExtent(start: 3, length: 2), .full]], data: data)
        assertFails(try TensorBundle(prefix: outside), file: "model.ckpt.index", place: "p", contains: "lies outside the shape")
        let good = try craftedSlices([[TensorSliceExtent(start: 0, length: 1), .full], [TensorSliceExtent(start: 1, length: 3), .full]], data: data)
        XCTAssertEqual(try TensorBundle(prefix: good).tensor("p").materialized().bytes, Array(data[..<32]))
        // A slice listed but not stored.
        let missing = try craftedSlices([[TensorSliceExtent(start: 0, length: 4), .full]], data: data, storing: false)
        assertFails(try TensorBundle(prefix: missing), file: "model.ckpt.index", place: "p", contains: "has no entry in the index")
    }

    /// A bundle of one partitioned float32 [4, 2] tensor "p" whose slices are `slices`, each stored
    /// (unless `storing` is false) under its slice key, taking its bytes from `data` in order.
    private func craftedSlices(_ slices: [[TensorSliceExtent]], data: [UInt8], storing: Bool = true) throws -> String {
        let shape: [Int64] = [4, 2]
        var rows: [([UInt8], ProtobufBundleEntry)] = [(Array("p".utf8), ProtobufBundleEntry(dtype: 1, shape: shape, slices: slices))]
        var offset = 0
        for extents in slices where storing {
            let sliceShape = zip(extents, shape).map { $0.length ?? $1 }
            let size = Int(sliceShape.reduce(1, *)) * 4
            let end = min(offset + size, data.count)
            rows.append((TensorSliceKey.encode(name: Array("p".utf8), extents: extents),
                         ProtobufBundleEntry(dtype: 1, shape: sliceShape, offset: Int64(offset), size: Int64(size),
                                             crc32c: CRC32C.masked(CRC32C.value(Array(data[offset..<end]))))))
            offset += size
        }
        var table = TableWriter()
        table.add(key: [], value: ProtobufBundleHeader(numShards: 1).encoded())
        for (key, entry) in rows.sorted(by: { $0.0.lexicographicallyPrecedes($1.0) }) { table.add(key: key, value: entry.encoded()) }
        let prefix = scratch.appendingPathComponent("sliced-\(UUID().uuidString)/model.ckpt").path
        try FileManager.default.createDirectory(atPath: (prefix as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileBytes.create(prefix + ".index", bytes: table.finish())
        try FileBytes.create(prefix + ".data-00000-of-00001", bytes: data)
        return prefix
    }

    func testNoHeaderAndAMalformedEntryMessage() throws {
        var table = TableWriter()
        table.add(key: Array("w".utf8), value: [0x08, 0x01])
        let prefix = scratch.appendingPathComponent("noheader").path
        try FileBytes.create(prefix + ".index", bytes: table.finish())
        assertFails(try TensorBundle(prefix: prefix), file: "noheader.index", contains: "no header entry")

        var bad = TableWriter()
        bad.add(key: [], value: ProtobufBundleHeader(numShards: 1).encoded())
        bad.add(key: Array("w".utf8), value: [0x12, 0x40, 0x01])   // shape: 64 bytes declared, 1 present
        let prefix2 = scratch.appendingPathComponent("badentry").path
        try FileBytes.create(prefix2 + ".index", bytes: bad.finish())
        assertFails(try TensorBundle(prefix: prefix2), file: "badentry.index", place: "w", contains: "not a BundleEntryProto")
        assertFails(try TensorBundle(prefix: scratch.appendingPathComponent("absent").path), file: "absent.index", contains: "cannot open", kind: .cannotOpen)
    }
}
