/// One key and value of a table read by ``TableReader``: the key decoded (a block stores it as a
/// delta of the key before), the value as the range of the table's bytes that holds it (blocks
/// are stored uncompressed, so a value lies in the file as it is).
package struct TableEntry: Equatable, Sendable {
    /// The key's bytes.
    package var key: [UInt8]
    /// Where the value lies in the table's bytes.
    package var value: Range<Int>

    /// An entry of `key` whose value lies at `value`.
    package init(key: [UInt8], value: Range<Int>) {
        self.key = key
        self.value = value
    }
}
