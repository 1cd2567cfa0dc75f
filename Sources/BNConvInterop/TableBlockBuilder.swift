/// Builds one block of a table the way TensorFlow's `BlockBuilder` does
/// (`tensorflow/core/lib/io/block_builder.cc`, LevelDB's `table/block_builder.cc`): each key stored
/// as the bytes it shares with the key before and the rest, a restart point (a key stored whole)
/// every `restartInterval` keys, then the restart offsets and their count as little-endian uint32s.
package struct TableBlockBuilder: Sendable {
    /// Keys between restart points (16 for data blocks, 1 for the index block).
    package let restartInterval: Int
    /// The entries so far.
    private var buffer: [UInt8] = []
    /// Where each restart point's entry starts in ``buffer``.
    private var restarts: [UInt32] = [0]
    /// Keys added since the last restart point.
    private var counter = 0
    /// The key added last.
    private var lastKey: [UInt8] = []

    /// An empty block with a restart point every `restartInterval` keys.
    package init(restartInterval: Int) {
        precondition(restartInterval >= 1)
        self.restartInterval = restartInterval
    }

    /// Whether no entry was added since the block was made or finished.
    package var isEmpty: Bool { buffer.isEmpty }

    /// The size the block would have if finished now (`CurrentSizeEstimate`): entries, restart
    /// array and its count.
    package var currentSizeEstimate: Int { buffer.count + restarts.count * 4 + 4 }

    /// Adds an entry; `key` sorts after every key added before (the caller keeps to that).
    package mutating func add(key: [UInt8], value: [UInt8]) {
        var shared = 0
        if counter < restartInterval {
            let limit = min(lastKey.count, key.count)
            while shared < limit && lastKey[shared] == key[shared] { shared += 1 }
        } else {
            restarts.append(UInt32(buffer.count))
            counter = 0
        }
        TableCoding.appendVarint(UInt64(shared), to: &buffer)
        TableCoding.appendVarint(UInt64(key.count - shared), to: &buffer)
        TableCoding.appendVarint(UInt64(value.count), to: &buffer)
        buffer.append(contentsOf: key[shared...])
        buffer.append(contentsOf: value)
        lastKey = key
        counter += 1
    }

    /// The finished block's contents (entries, restart array, count); the builder starts anew.
    package mutating func finish() -> [UInt8] {
        var out = buffer
        for r in restarts { TableCoding.appendFixed32(r, to: &out) }
        TableCoding.appendFixed32(UInt32(restarts.count), to: &out)
        buffer = []
        restarts = [0]
        counter = 0
        lastKey = []
        return out
    }
}
