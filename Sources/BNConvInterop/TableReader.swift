import Foundation
import BNConvCore

/// Every entry of a table in TensorFlow's (LevelDB's) format, read from its bytes with each
/// block's checksum verified (`tensorflow/core/lib/io/table.cc`, `format.cc`, `block.cc`; LevelDB's
/// `doc/table_format.md`).
///
/// The footer names the index block, whose entries map a key at or after the last key of each
/// data block to that block's handle; each block is followed by a 5-byte trailer: its compression
/// type (0 none, 1 Snappy) and the masked CRC-32C of the contents and that type byte. Made for
/// hostile input: every handle, varint and length is checked against the bytes; data blocks must
/// follow one another without overlapping (so reading does work in proportion to the file); keys
/// must be strictly increasing across the whole table and each index key must separate its block
/// from the next (TensorFlow's binary search relies on both); the keys may decode to at most
/// `maxKeyBytes` bytes in all. A Snappy-compressed block is refused: TensorFlow never writes one
/// in a tensor bundle's index (`tensor_bundle.cc`, `TableBuilderOptions`: `kNoCompression`).
package struct TableReader: Sendable {
    /// Every entry, in key order.
    package let entries: [TableEntry]
    /// Where each data block lies, in order.
    package let dataBlocks: [BlockHandle]
    /// The footer.
    package let footer: TableFooter

    /// The size of the trailer after each block's contents: type byte and masked CRC.
    package static let trailerLength = 5

    /// Reads the table held in `bytes` (the whole file); `file` names it in errors. `verifiesChecksums`
    /// false skips the blocks' CRCs, for the fuzzer only (so that its mutations reach the parsing).
    package init(bytes: UnsafeRawBufferPointer, file: String, maxKeyBytes: Int = Int.max, verifiesChecksums: Bool = true) throws {
        let footer = try TableFooter(endOf: bytes, file: file)
        let footerStart = bytes.count - TableFooter.encodedLength
        var keyBytes = maxKeyBytes

        /// The contents of the block `handle` names, after checking its place, checksum and type.
        func contents(of handle: BlockHandle, _ what: String) throws -> Range<Int> {
            guard handle.offset <= footerStart, footerStart - handle.offset >= TableReader.trailerLength,
                  handle.size <= footerStart - handle.offset - TableReader.trailerLength else {
                throw CheckpointError(.malformed, file: file, place: what, problem: "the block at byte \(handle.offset) of \(handle.size) bytes (and its 5-byte trailer) runs past the table's data, which ends at byte \(footerStart) (truncated, or a bad handle)")
            }
            let range = handle.offset..<(handle.offset + handle.size)
            let type = bytes[range.upperBound]
            let stored = CRC32C.unmasked(TableCoding.fixed32(bytes, at: range.upperBound + 1))
            let actual = CRC32C.extend(CRC32C.value(UnsafeRawBufferPointer(rebasing: bytes[range])), [type])
            guard stored == actual || !verifiesChecksums else {
                throw CheckpointError(.malformed, file: file, place: what, problem: String(format: "block checksum mismatch: the block at byte %d of %d bytes has CRC-32C 0x%08x, its trailer records 0x%08x (the file is damaged)", handle.offset, handle.size, actual, stored))
            }
            switch type {
            case 0: return range
            case 1: throw CheckpointError(.unsupported, file: file, place: what, problem: "the block is Snappy-compressed; TensorFlow never writes compressed tensor-bundle indexes and bnconv does not read them")
            default: throw CheckpointError(.malformed, file: file, place: what, problem: "the block's compression type is \(type) (0 none, 1 Snappy)")
            }
        }

        // The metaindex block: checked, its entries (TensorFlow writes none) ignored.
        let metaindex = try contents(of: footer.metaindex, "metaindex block")
        var ignored = maxKeyBytes
        try TableBlock.forEachEntry(in: bytes, contents: metaindex, file: file, block: "metaindex block", after: nil, keyBytes: &ignored) { _ in }

        var index: [(key: [UInt8], handle: BlockHandle)] = []
        let indexContents = try contents(of: footer.index, "index block")
        try TableBlock.forEachEntry(in: bytes, contents: indexContents, file: file, block: "index block", after: nil, keyBytes: &keyBytes) { entry in
            var at = entry.value.lowerBound
            guard let handle = BlockHandle.decode(bytes, at: &at, end: entry.value.upperBound) else {
                throw CheckpointError(.malformed, file: file, place: "index block", problem: "index entry \(index.count) does not hold a block handle (two varints within its \(entry.value.count)-byte value)")
            }
            index.append((entry.key, handle))
        }

        var entries: [TableEntry] = []
        var blocks: [BlockHandle] = []
        var previousEnd = 0
        var last: [UInt8]? = nil
        for (i, (indexKey, handle)) in index.enumerated() {
            let what = "data block \(i) (byte \(handle.offset))"
            guard handle.offset >= previousEnd else {
                throw CheckpointError(.malformed, file: file, place: what, problem: "the block starts at byte \(handle.offset), inside the block before it (which ends at byte \(previousEnd))")
            }
            let range = try contents(of: handle, what)
            previousEnd = range.upperBound + TableReader.trailerLength
            var first = true
            try TableBlock.forEachEntry(in: bytes, contents: range, file: file, block: what, after: last, keyBytes: &keyBytes) { entry in
                if first, i > 0, !index[i - 1].key.lexicographicallyPrecedes(entry.key) {
                    throw CheckpointError(.malformed, file: file, place: "index block", problem: "index entry \(i - 1) does not sort before the first key of the next block")
                }
                first = false
                entries.append(entry)
            }
            last = entries.last?.key ?? last
            if let last, indexKey.lexicographicallyPrecedes(last) {
                throw CheckpointError(.malformed, file: file, place: "index block", problem: "index entry \(i) sorts before the last key of its block")
            }
            blocks.append(handle)
        }
        self.entries = entries
        self.dataBlocks = blocks
        self.footer = footer
    }
}
