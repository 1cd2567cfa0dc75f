/// Where a block of a table lies in the file: its offset and the size of its contents (the 5-byte
/// trailer after them not counted), encoded as two varint64s (`tensorflow/core/lib/io/format.h`,
/// `BlockHandle`; LevelDB's `doc/table_format.md`).
package struct BlockHandle: Equatable, Sendable {
    /// The most bytes an encoded handle takes (two 10-byte varints).
    package static let maxEncodedLength = 20

    /// The offset of the block's first byte.
    package var offset: Int
    /// The size of the block's contents, trailer excluded.
    package var size: Int

    /// A handle of the block of `size` bytes at `offset`.
    package init(offset: Int, size: Int) {
        self.offset = offset
        self.size = size
    }

    /// The handle encoded at `at` (read no further than `end`), advancing `at` past it; nil when a
    /// varint runs past `end` or a value does not fit in an `Int`.
    package static func decode(_ bytes: UnsafeRawBufferPointer, at: inout Int, end: Int) -> BlockHandle? {
        var position = at
        guard let offset = TableCoding.varint(bytes, at: &position, end: end), offset <= UInt64(Int.max),
              let size = TableCoding.varint(bytes, at: &position, end: end), size <= UInt64(Int.max) else { return nil }
        at = position
        return BlockHandle(offset: Int(offset), size: Int(size))
    }

    /// Appends the encoding: offset and size as varint64s.
    package func encode(to out: inout [UInt8]) {
        TableCoding.appendVarint(UInt64(offset), to: &out)
        TableCoding.appendVarint(UInt64(size), to: &out)
    }
}
