import BNConvCore

/// The 48 bytes that end a table (`tensorflow/core/lib/io/format.{h,cc}`, `Footer`; LevelDB's
/// `doc/table_format.md`): the metaindex block's handle and the index block's handle, zero padding
/// to 40 bytes, and the magic number 0xdb4775248b80fb57 as two little-endian 32-bit halves, low
/// half first (so, little-endian 64-bit).
package struct TableFooter: Equatable, Sendable {
    /// The footer's size in bytes.
    package static let encodedLength = 48
    /// The table magic number (`kTableMagicNumber`).
    package static let magic: UInt64 = 0xDB47_7524_8B80_FB57

    /// The metaindex block (TensorFlow writes it empty).
    package var metaindex: BlockHandle
    /// The index block: one entry per data block.
    package var index: BlockHandle

    /// A footer of the two handles.
    package init(metaindex: BlockHandle, index: BlockHandle) {
        self.metaindex = metaindex
        self.index = index
    }

    /// The footer at the end of `bytes` (a whole table); `file` names it in errors.
    package init(endOf bytes: UnsafeRawBufferPointer, file: String) throws {
        guard bytes.count >= TableFooter.encodedLength else {
            throw CheckpointError(.malformed, file: file, problem: "the table is \(bytes.count) bytes, shorter than its \(TableFooter.encodedLength)-byte footer (truncated)")
        }
        let start = bytes.count - TableFooter.encodedLength
        let magic = TableCoding.fixed64(bytes, at: start + 40)
        guard magic == TableFooter.magic else {
            throw CheckpointError(.malformed, file: file, problem: "the footer's magic number is 0x\(String(magic, radix: 16)), not the table magic 0x\(String(TableFooter.magic, radix: 16)) (not a table, or truncated)")
        }
        var at = start
        guard let metaindex = BlockHandle.decode(bytes, at: &at, end: start + 40),
              let index = BlockHandle.decode(bytes, at: &at, end: start + 40) else {
            throw CheckpointError(.malformed, file: file, problem: "the footer's block handles are not two pairs of varints within its first 40 bytes")
        }
        self.init(metaindex: metaindex, index: index)
    }

    /// The 48 encoded bytes.
    package func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(TableFooter.encodedLength)
        metaindex.encode(to: &out)
        index.encode(to: &out)
        out.append(contentsOf: repeatElement(0, count: 2 * BlockHandle.maxEncodedLength - out.count))
        TableCoding.appendFixed32(UInt32(truncatingIfNeeded: TableFooter.magic), to: &out)
        TableCoding.appendFixed32(UInt32(truncatingIfNeeded: TableFooter.magic >> 32), to: &out)
        return out
    }
}
