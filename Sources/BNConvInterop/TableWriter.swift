/// Writes a table in TensorFlow's (LevelDB's) format the way TensorFlow's `TableBuilder` does with
/// the options of its tensor-bundle writer (`tensorflow/core/lib/io/table_builder.cc`,
/// `table_options.h`; `tensor_bundle.cc`, `BundleWriter::Finish`): 256 KiB data blocks, a restart
/// point every 16 keys, no compression. So an index TensorFlow wrote is written again byte for byte.
///
/// A data block is closed once its estimated size reaches the block size, and before an entry of
/// twice the block size or more; its index entry is added when the next key is seen, under the
/// shortest key that sorts at or after the block's last key and before the next key
/// (`FindShortestSeparator`), the last block's under the shortest key at or after its last key
/// (`FindShortSuccessor`). Then come an empty metaindex block, the index block (a restart point at
/// every key) and the footer. Each block is followed by its type byte (0) and the masked CRC-32C of
/// its contents and that byte.
package struct TableWriter: Sendable {
    /// TensorFlow's default block size (`table::Options::block_size`): 256 KiB.
    package static let defaultBlockSize = 262_144
    /// TensorFlow's default restart interval (`table::Options::block_restart_interval`).
    package static let defaultRestartInterval = 16

    /// The approximate size of a data block's contents.
    package let blockSize: Int
    /// The table so far.
    private var out: [UInt8] = []
    /// The data block being filled.
    private var dataBlock: TableBlockBuilder
    /// The index block: a restart point at every key.
    private var indexBlock = TableBlockBuilder(restartInterval: 1)
    /// The key added last.
    private var lastKey: [UInt8] = []
    /// How many entries were added.
    private var entryCount = 0
    /// The handle of the data block closed last, until its index entry is added (when the next key
    /// is seen, or at the end).
    private var pendingHandle: BlockHandle?

    /// A writer of blocks of `blockSize` bytes with a restart point every `restartInterval` keys.
    package init(blockSize: Int = TableWriter.defaultBlockSize, restartInterval: Int = TableWriter.defaultRestartInterval) {
        self.blockSize = blockSize
        self.dataBlock = TableBlockBuilder(restartInterval: restartInterval)
    }

    /// Adds an entry; `key` sorts strictly after the key added before (the caller keeps to that).
    package mutating func add(key: [UInt8], value: [UInt8]) {
        precondition(entryCount == 0 || lastKey.lexicographicallyPrecedes(key), "TableWriter: keys out of order")
        if entryCount > 0 && key.count + value.count >= 2 * blockSize {
            flush()
        }
        if let handle = pendingHandle {
            var separator = lastKey
            TableWriter.shortenToSeparator(&separator, before: key)
            var encoded = [UInt8]()
            handle.encode(to: &encoded)
            indexBlock.add(key: separator, value: encoded)
            pendingHandle = nil
        }
        lastKey = key
        entryCount += 1
        dataBlock.add(key: key, value: value)
        if dataBlock.currentSizeEstimate >= blockSize {
            flush()
        }
    }

    /// The finished table's bytes.
    package mutating func finish() -> [UInt8] {
        flush()
        var empty = TableBlockBuilder(restartInterval: dataBlock.restartInterval)
        let metaindex = writeBlock(empty.finish())
        if let handle = pendingHandle {
            var successor = lastKey
            TableWriter.shortenToSuccessor(&successor)
            var encoded = [UInt8]()
            handle.encode(to: &encoded)
            indexBlock.add(key: successor, value: encoded)
            pendingHandle = nil
        }
        let index = writeBlock(indexBlock.finish())
        out.append(contentsOf: TableFooter(metaindex: metaindex, index: index).encoded())
        return out
    }

    /// Closes the current data block, if it has entries.
    private mutating func flush() {
        guard !dataBlock.isEmpty else { return }
        pendingHandle = writeBlock(dataBlock.finish())
    }

    /// Appends a block's contents and trailer; returns its handle.
    private mutating func writeBlock(_ contents: [UInt8]) -> BlockHandle {
        let handle = BlockHandle(offset: out.count, size: contents.count)
        out.append(contentsOf: contents)
        let type: UInt8 = 0
        out.append(type)
        TableCoding.appendFixed32(CRC32C.masked(CRC32C.extend(CRC32C.value(contents), [type])), to: &out)
        return handle
    }

    /// `FindShortestSeparator`: where `start` and `limit` first differ, the byte of `start` is raised
    /// by one and the rest cut, when that keeps it below `limit`; otherwise (one is a prefix of the
    /// other, or the bytes are adjacent) `start` is left as it is.
    static func shortenToSeparator(_ start: inout [UInt8], before limit: [UInt8]) {
        let common = min(start.count, limit.count)
        var i = 0
        while i < common && start[i] == limit[i] { i += 1 }
        guard i < common else { return }
        let byte = start[i]
        if byte < 0xFF && Int(byte) + 1 < Int(limit[i]) {
            start[i] = byte + 1
            start.removeSubrange((i + 1)...)
        }
    }

    /// `FindShortSuccessor`: the first byte that is not 0xFF is raised by one and the rest cut; a
    /// key of 0xFF bytes only is left as it is.
    static func shortenToSuccessor(_ key: inout [UInt8]) {
        for i in key.indices where key[i] != 0xFF {
            key[i] += 1
            key.removeSubrange((i + 1)...)
            return
        }
    }
}
