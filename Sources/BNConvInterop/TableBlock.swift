import BNConvCore

/// The entries of one block of a table (`tensorflow/core/lib/io/block.cc`, `block_builder.cc`;
/// LevelDB's `doc/table_format.md`), read with every length checked against the block.
///
/// A block is a run of entries, each `shared` (varint32: bytes taken from the key before),
/// `non_shared` (varint32), `value_length` (varint32), the key's last `non_shared` bytes and the
/// value; then the restart array (uint32 offsets of the entries stored with `shared` 0, the
/// first at 0) and its length (uint32). Beyond what TensorFlow's reader checks, the restart array
/// must point at exactly the entries with `shared` 0 that begin each run, in order, so a block
/// that lies about its restarts (which TensorFlow's binary search trusts) is refused.
package enum TableBlock {
    /// Calls `body` with each entry of the block whose contents lie at `contents` of `bytes`, in
    /// order. `previous` is the key before the block (the entries must follow it and each other in
    /// strictly increasing order; nil for none), and `keyBytes` the bytes the decoded keys may still
    /// take (each key's length is taken from it; a block of small entries sharing long prefixes
    /// would otherwise decode to far more than the file holds). `file` and `block` name it in errors.
    package static func forEachEntry(in bytes: UnsafeRawBufferPointer, contents: Range<Int>, file: String, block: String,
                                     after previous: [UInt8]?, keyBytes: inout Int,
                                     _ body: (TableEntry) throws -> Void) throws {
        func fail(_ problem: String) -> CheckpointError {
            CheckpointError(.malformed, file: file, place: block, problem: problem)
        }
        let size = contents.count
        guard size >= 4 else { throw fail("the block is \(size) bytes, too short for its restart count") }
        let restartCount = Int(TableCoding.fixed32(bytes, at: contents.upperBound - 4))
        guard restartCount >= 1, restartCount <= (size - 4) / 4 else {
            throw fail("the block declares \(restartCount) restart points, which do not fit in its \(size) bytes (between 1 and \((size - 4) / 4))")
        }
        let dataEnd = contents.upperBound - 4 * (restartCount + 1)
        var restartIndex = 0
        func restart(_ i: Int) -> Int { contents.lowerBound + Int(TableCoding.fixed32(bytes, at: dataEnd + 4 * i)) }

        var key = [UInt8]()
        var last = previous
        var at = contents.lowerBound
        while at < dataEnd {
            let start = at
            guard let shared = TableCoding.varint32(bytes, at: &at, end: dataEnd),
                  let nonShared = TableCoding.varint32(bytes, at: &at, end: dataEnd),
                  let valueLength = TableCoding.varint32(bytes, at: &at, end: dataEnd) else {
                throw fail("the entry at byte \(start) has a length varint that runs past the entries' end (byte \(dataEnd)) or over 32 bits")
            }
            guard nonShared <= dataEnd - at, valueLength <= dataEnd - at - nonShared else {
                throw fail("the entry at byte \(start) declares a \(nonShared)-byte key part and a \(valueLength)-byte value, past the entries' end (byte \(dataEnd))")
            }
            let isRestart = restartIndex < restartCount && restart(restartIndex) == start
            if isRestart {
                guard shared == 0 else { throw fail("the entry at byte \(start) is a restart point but shares \(shared) bytes with the key before") }
                restartIndex += 1
            } else if start == contents.lowerBound {
                throw fail("the block's first restart point is byte \(restart(0) - contents.lowerBound), not its first entry")
            } else if restartIndex < restartCount && restart(restartIndex) < start {
                throw fail("restart point \(restartIndex) (byte \(restart(restartIndex))) is not the start of an entry")
            }
            guard shared <= key.count else {
                throw fail("the entry at byte \(start) shares \(shared) bytes with a \(key.count)-byte key")
            }
            let length = shared + nonShared
            guard length <= keyBytes else {
                throw fail("the keys decode to more bytes than the file could hold (over the cap for its size); refused before allocating")
            }
            keyBytes -= length
            key.removeSubrange(shared...)
            key.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + nonShared)]))
            at += nonShared
            if let last, !last.lexicographicallyPrecedes(key) {
                throw fail("the key of the entry at byte \(start) does not sort after the key before it (keys must be unique and in order)")
            }
            try body(TableEntry(key: key, value: at..<(at + valueLength)))
            at += valueLength
            last = key
        }
        guard restartIndex == restartCount || (dataEnd == contents.lowerBound && restartCount == 1 && restart(0) == contents.lowerBound) else {
            throw fail("restart point \(restartIndex) (byte \(restart(restartIndex) - contents.lowerBound)) is not the start of an entry")
        }
    }
}
