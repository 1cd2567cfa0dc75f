/// A deferred tensor's bytes as they are stored in a range of a file (a TensorFlow Const's
/// `tensor_content` left in the GraphDef): lent from a read-only mapping for the length of each
/// use, never copied to be read. Readable on any thread (nothing but the mapping is touched).
package final class FileRangeSource: TensorSource {
    /// The file, opened for mapping.
    package let file: MappedFile
    /// Where the bytes start.
    package let offset: Int
    /// How many there are.
    package let count: Int

    /// The `count` bytes at `offset` of `file`.
    package init(file: MappedFile, offset: Int, count: Int) {
        self.file = file
        self.offset = offset
        self.count = count
    }

    /// Nothing but an immutable mapping is read.
    package var loadsConcurrently: Bool { true }

    /// A copy of the bytes.
    package func loadBytes() throws -> [UInt8] {
        try file.withBytes(offset: offset, count: count) { Array($0) }
    }

    /// Lends the bytes from a mapping of the file.
    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try file.withBytes(offset: offset, count: count, body)
    }
}
