import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// The table codec: TensorFlow's indexes read entry for entry and written again byte for byte;
/// tables of many blocks round-trip; damaged and hostile tables end in a CheckpointError naming the
/// file and the problem, without a crash or a large allocation.
final class SortedTableTests: XCTestCase {
    private func read(_ bytes: [UInt8], maxKeyBytes: Int = .max) throws -> TableReader {
        try bytes.withUnsafeBytes { try TableReader(bytes: $0, file: "t.index", maxKeyBytes: maxKeyBytes) }
    }

    private func entries(_ bytes: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        try read(bytes).entries.map { ($0.key, Array(bytes[$0.value])) }
    }

    private func write(_ entries: [(key: [UInt8], value: [UInt8])], blockSize: Int = TableWriter.defaultBlockSize) -> [UInt8] {
        var writer = TableWriter(blockSize: blockSize)
        for e in entries { writer.add(key: e.key, value: e.value) }
        return writer.finish()
    }

    private func message(_ error: Error) -> String { (error as? CheckpointError)?.description ?? "\(error)" }

    /// Every TensorFlow-written index, read and written again, gives the same bytes (several data
    /// blocks, restart points, a 512 KiB key that closes a block early, slice keys).
    func testTensorFlowIndexesAreWrittenAgainByteForByte() throws {
        for name in TensorBundleFixtures.cases {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TensorBundleFixtures.prefix(name) + ".index")))
            let read = try entries(original)
            XCTAssertEqual(write(read), original, name)
        }
    }

    func testManyBlocksRoundTrip() throws {
        var state: UInt64 = 9
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let keys = Set((0..<2000).map { i in Array("layer/\(next() % 50)/w\(i)".utf8) + (0..<Int(next() % 20)).map { _ in UInt8(next() & 0xFF) } })
        let sorted = keys.sorted { $0.lexicographicallyPrecedes($1) }.map { (key: $0, value: (0..<Int(next() % 40)).map { _ in UInt8(next() & 0xFF) }) }
        for blockSize in [64, 1024, 4096] {
            let table = write(sorted, blockSize: blockSize)
            let back = try entries(table)
            XCTAssertEqual(back.map(\.key), sorted.map(\.key))
            XCTAssertEqual(back.map(\.value), sorted.map(\.value))
            XCTAssertGreaterThan(try read(table).dataBlocks.count, 3)
        }
        // An empty table: just the empty metaindex and index blocks and the footer.
        XCTAssertEqual(try read(write([])).entries, [])
    }

    func testSeparatorsAndSuccessors() {
        var a: [UInt8] = Array("the quick brown fox".utf8)
        TableWriter.shortenToSeparator(&a, before: Array("the who".utf8))
        XCTAssertEqual(a, Array("the r".utf8))
        var b: [UInt8] = Array("abc".utf8)
        TableWriter.shortenToSeparator(&b, before: Array("abcd".utf8))   // a prefix: left alone
        XCTAssertEqual(b, Array("abc".utf8))
        var c: [UInt8] = Array("abc".utf8)
        TableWriter.shortenToSeparator(&c, before: Array("abd".utf8))   // adjacent bytes: left alone
        XCTAssertEqual(c, Array("abc".utf8))
        var d: [UInt8] = [0xFF, 0xFF, 0x10, 0x20]
        TableWriter.shortenToSuccessor(&d)
        XCTAssertEqual(d, [0xFF, 0xFF, 0x11])
        var e: [UInt8] = [0xFF, 0xFF]
        TableWriter.shortenToSuccessor(&e)
        XCTAssertEqual(e, [0xFF, 0xFF])
    }

    // MARK: Damage

    private func small() -> [UInt8] {
        write((0..<40).map { (key: Array(String(format: "key/%03d", $0).utf8), value: Array("value \($0)".utf8)) }, blockSize: 128)
    }

    func testEveryTruncationIsRefused() {
        let table = small()
        for length in 0..<table.count {
            XCTAssertThrowsError(try read(Array(table[..<length])), "length \(length)") { error in
                XCTAssertEqual((error as? CheckpointError)?.file, "t.index")
            }
        }
    }

    func testEveryFlippedByteIsRefusedOrHarmless() throws {
        // A flip in a block or its trailer breaks its CRC; in the footer, its handles or magic;
        // only the footer's padding may change unnoticed.
        let table = small()
        let padding = (table.count - 48 + 0)..<(table.count - 8)
        var refused = 0
        for i in table.indices {
            var damaged = table
            damaged[i] ^= 0x5A
            do {
                let back = try read(damaged)
                XCTAssertEqual(back.entries.count, 40, "byte \(i)")
                XCTAssertTrue(padding.contains(i), "byte \(i) changed unnoticed")
            } catch {
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, table.count - 40)
        var flipped = table
        flipped[10] ^= 1
        XCTAssertThrowsError(try read(flipped)) { XCTAssertTrue(self.message($0).contains("block checksum mismatch"), self.message($0)) }
    }

    func testABadMagicIsRefused() {
        var table = small()
        table[table.count - 1] ^= 0xFF
        XCTAssertThrowsError(try read(table)) { XCTAssertTrue(self.message($0).contains("magic"), self.message($0)) }
    }

    /// A table whose single data block holds `contents` (its CRC correct), as a hostile writer makes it.
    private func table(dataBlock contents: [UInt8], type: UInt8 = 0, indexKey: [UInt8] = [0xFF]) -> [UInt8] {
        var out = [UInt8]()
        func block(_ c: [UInt8], _ t: UInt8 = 0) -> BlockHandle {
            let handle = BlockHandle(offset: out.count, size: c.count)
            out += c
            out.append(t)
            TableCoding.appendFixed32(CRC32C.masked(CRC32C.extend(CRC32C.value(c), [t])), to: &out)
            return handle
        }
        let data = block(contents, type)
        var empty = TableBlockBuilder(restartInterval: 16)
        let meta = block(empty.finish())
        var index = TableBlockBuilder(restartInterval: 1)
        var handle = [UInt8]()
        data.encode(to: &handle)
        index.add(key: indexKey, value: handle)
        let indexHandle = block(index.finish())
        return out + TableFooter(metaindex: meta, index: indexHandle).encoded()
    }

    /// Block contents from raw entry bytes and restart offsets.
    private func blockContents(_ entries: [UInt8], restarts: [UInt32]) -> [UInt8] {
        var out = entries
        for r in restarts { TableCoding.appendFixed32(r, to: &out) }
        TableCoding.appendFixed32(UInt32(restarts.count), to: &out)
        return out
    }

    func testHostileBlocksAreRefused() throws {
        // The hand-made table reads when it is sound.
        let sound = blockContents([0, 1, 1, 0x61, 0x7A, 0, 1, 0, 0x62], restarts: [0])
        XCTAssertEqual(try entries(table(dataBlock: sound)).map(\.key), [[0x61], [0x62]])

        let cases: [(String, [UInt8], String)] = [
            ("a varint running off the end", blockContents([0, 0x80, 0x80], restarts: [0]), "runs past"),
            ("a 6-byte varint32", blockContents([0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0], restarts: [0]), "over 32 bits"),
            ("a huge value length", blockContents([0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x61], restarts: [0]), "past the entries' end"),
            ("a huge key length", blockContents([0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0x61], restarts: [0]), "past the entries' end"),
            ("sharing more than the key before", blockContents([0, 1, 0, 0x61, 5, 1, 0, 0x62], restarts: [0]), "shares 5 bytes"),
            ("a first entry that shares", blockContents([1, 1, 0, 0x61], restarts: [0]), "shares 1 bytes"),
            ("keys out of order", blockContents([0, 1, 0, 0x62, 0, 1, 0, 0x61], restarts: [0]), "does not sort after"),
            ("a duplicate key", blockContents([0, 1, 0, 0x61, 0, 1, 0, 0x61], restarts: [0]), "does not sort after"),
            ("too many restarts", [0, 0, 0, 0, 0xFF, 0xFF, 0, 0], "restart points"),
            ("no restarts", [0, 0, 0, 0], "restart points"),
            ("a restart mid-entry", blockContents([0, 1, 0, 0x61, 0, 1, 0, 0x62], restarts: [0, 2]), "not the start of an entry"),
            ("a restart past the entries", blockContents([0, 1, 0, 0x61], restarts: [0, 100]), "not the start of an entry"),
            ("a first restart that is not 0", blockContents([0, 1, 0, 0x61, 0, 1, 0, 0x62], restarts: [4]), "first restart point"),
            ("a 3-byte block", [0, 0, 0], "too short"),
        ]
        for (what, contents, expected) in cases {
            XCTAssertThrowsError(try read(table(dataBlock: contents)), what) { error in
                XCTAssertTrue(self.message(error).contains(expected), "\(what): \(self.message(error))")
            }
        }
        XCTAssertThrowsError(try read(table(dataBlock: sound, type: 1))) { error in
            XCTAssertEqual((error as? CheckpointError)?.kind, .unsupported)
            XCTAssertTrue(self.message(error).contains("Snappy"), self.message(error))
        }
        XCTAssertThrowsError(try read(table(dataBlock: sound, type: 7))) { XCTAssertTrue(self.message($0).contains("compression type is 7"), self.message($0)) }
        XCTAssertThrowsError(try read(table(dataBlock: sound, indexKey: [0x61]))) { XCTAssertTrue(self.message($0).contains("sorts before the last key"), self.message($0)) }
    }

    /// Keys that share long prefixes decode to far more than the file holds: refused by the cap
    /// before they are allocated.
    func testKeysDecodingToMoreThanTheCapAreRefused() throws {
        var raw: [UInt8] = [0, 0xE8, 0x07, 0] + [UInt8](repeating: 0x61, count: 1000)
        for i in 0..<200 { raw += [0xE8, 0x07, 2, 0, UInt8(i >> 8), UInt8(i & 0xFF)] }   // share 1000, add 2 bytes
        let contents = blockContents(raw, restarts: [0])
        XCTAssertThrowsError(try read(table(dataBlock: contents), maxKeyBytes: 50_000)) { error in
            XCTAssertTrue(self.message(error).contains("cap"), self.message(error))
        }
    }

    func testOverlappingDataBlocksAreRefused() throws {
        let table = write((0..<40).map { (key: Array(String(format: "key/%03d", $0).utf8), value: [1, 2, 3]) }, blockSize: 64)
        let reader = try read(table)
        // An index naming the first block twice.
        var index = TableBlockBuilder(restartInterval: 1)
        for key: [UInt8] in [[0xFE], [0xFF]] {
            var handle = [UInt8]()
            reader.dataBlocks[0].encode(to: &handle)
            index.add(key: key, value: handle)
        }
        let contents = index.finish()
        var out = Array(table[..<reader.footer.index.offset])
        let handle = BlockHandle(offset: out.count, size: contents.count)
        out += contents + [0]
        TableCoding.appendFixed32(CRC32C.masked(CRC32C.extend(CRC32C.value(contents), [0])), to: &out)
        out += TableFooter(metaindex: reader.footer.metaindex, index: handle).encoded()
        XCTAssertThrowsError(try read(out)) { XCTAssertTrue(self.message($0).contains("inside the block before it"), self.message($0)) }
    }
}
