import Foundation
import BNConvCore
import BNConvInterop

/// Writes V2 tensor bundles as TensorFlow's `BundleWriter` does (`tensorflow/core/util/tensor_bundle/
/// tensor_bundle.cc`): one data file `PREFIX.data-00000-of-00001` holding each tensor's bytes one
/// after the other in the order of the items (no padding: `data_alignment` 1), and the index
/// `PREFIX.index`, a table (``TableWriter``) of the header under the empty key (one shard,
/// little-endian, version producer 1) and one `BundleEntryProto` per key in byte order, each with
/// its offset, size and masked CRC-32C. A partitioned tensor copied from another bundle keeps its
/// slices: the whole tensor's entry lists them and each is stored under its slice key.
///
/// So a bundle TensorFlow wrote with one data file, copied item by item in its storage order
/// (``TensorBundle/keysInStorageOrder``), is written again byte for byte.
package enum TensorBundleWriter {
    /// Writes a new bundle at `prefix` (index + one data shard) atomically: every file built beside
    /// its target and renamed only when all are complete; nothing left behind on error.
    ///
    /// The data file is written (to a temporary beside it) first, the index is built from what was
    /// written and written to its own temporary, both are flushed to disk, then the data file is
    /// renamed into place and the index after it, the order TensorFlow renames them in. Data files
    /// of an older bundle at the same prefix with another shard count are left alone (as
    /// TensorFlow leaves them); the new index does not point at them.
    package static func write(prefix: String, items: [TensorBundleItem]) throws {
        let indexPath = TensorBundleNaming.indexPath(prefix)
        let dataPath = TensorBundleNaming.dataPath(prefix, shard: 0, of: 1)
        var seen = Set<String>()
        for item in items {
            guard !item.key.isEmpty else {
                throw CheckpointError(.writeFailed, file: indexPath, problem: "a tensor cannot be stored under the empty key (the header's)")
            }
            guard seen.insert(item.key).inserted else {
                throw CheckpointError(.writeFailed, file: indexPath, place: item.key, problem: "two tensors have this key")
            }
        }
        try AtomicFile.write(to: indexPath) { indexTemporary in
            try AtomicFile.write(to: dataPath) { dataTemporary in
                var entries: [(key: [UInt8], value: [UInt8])] = []
                try ByteSink.writing(to: dataTemporary, file: dataPath) { sink in
                    for item in items {
                        entries += try write(item, to: sink, index: indexPath, data: dataPath)
                    }
                }
                entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
                for (a, b) in zip(entries, entries.dropFirst()) where a.key == b.key {
                    throw CheckpointError(.writeFailed, file: indexPath, place: TensorBundleIndex.display(a.key), problem: "two entries have this key (a slice key of a copied tensor matches another)")
                }
                var table = TableWriter()
                table.add(key: [], value: ProtobufBundleHeader(numShards: 1).encoded())
                for entry in entries { table.add(key: entry.key, value: entry.value) }
                try ByteSink.writing(to: indexTemporary, file: indexPath) { $0.append(table.finish()) }
                try flush(indexTemporary, file: indexPath)
            }
        }
    }

    /// Appends `item`'s bytes to `sink`; returns its index entries (the tensor's, and a copied
    /// partitioned tensor's slices'), encoded.
    private static func write(_ item: TensorBundleItem, to sink: ByteSink, index: String, data: String) throws -> [(key: [UInt8], value: [UInt8])] {
        let key = Array(item.key.utf8)
        switch item.content {
        case .tensor(let tensor):
            let offset = sink.count
            let crc = try tensor.withUnsafeBytes { raw -> UInt32 in
                sink.append(raw)
                return CRC32C.value(raw)
            }
            let message = ProtobufBundleEntry(dtype: TensorFlowDataType.value(tensor.dtype), shape: tensor.shape.map(Int64.init),
                                              offset: Int64(offset), size: Int64(sink.count - offset), crc32c: CRC32C.masked(crc))
            return [(key, message.encoded())]
        case .strings(let values, let shape):
            guard shape.allSatisfy({ $0 >= 0 }), ElementCount.of(shape) == values.count else {
                throw CheckpointError(.writeFailed, file: index, place: item.key, problem: "\(values.count) strings do not fill the shape \(shape)")
            }
            let (bytes, crc) = TensorBundleStrings.encode(values)
            let offset = sink.count
            sink.append(bytes)
            let message = ProtobufBundleEntry(dtype: TensorBundleDataType.string, shape: shape.map(Int64.init),
                                              offset: Int64(offset), size: Int64(bytes.count), crc32c: CRC32C.masked(crc))
            return [(key, message.encoded())]
        case .copied(let bundle, let sourceKey):
            let record = try bundle.record(sourceKey)
            var written: [(key: [UInt8], value: [UInt8])] = []
            var message = record.message
            if record.entry.slices.isEmpty {
                (message.offset, message.shardID) = (Int64(sink.count), 0)
                try copy(record, from: bundle, to: sink)
            } else {
                for extents in record.entry.slices {
                    guard let slice = bundle.index.record(TensorSliceKey.encode(name: record.keyBytes, extents: extents)) else {
                        throw CheckpointError(.malformed, file: bundle.index.file, place: sourceKey, problem: "the slice \(TensorBundleIndex.describe(extents)) has no entry in the index")
                    }
                    var sliceMessage = slice.message
                    (sliceMessage.offset, sliceMessage.shardID) = (Int64(sink.count), 0)
                    try copy(slice, from: bundle, to: sink)
                    written.append((TensorSliceKey.encode(name: key, extents: extents), sliceMessage.encoded()))
                }
            }
            written.insert((key, message.encoded()), at: 0)
            return written
        }
    }

    /// Appends `record`'s stored bytes from `bundle` to `sink`, checking their checksum.
    private static func copy(_ record: TensorBundleRecord, from bundle: TensorBundle, to sink: ByteSink) throws {
        let entry = record.entry
        if entry.dataType == TensorBundleDataType.string {
            sink.append(try bundle.verifiedBytes(record))
            return
        }
        let (file, path) = try bundle.storedRange(record)
        var crc: UInt32 = 0
        var at = entry.offset
        let end = entry.offset + entry.size
        while at < end {
            let chunk = min(end - at, 4 << 20)
            try file.withBytes(offset: at, count: chunk) { raw in
                crc = CRC32C.extend(crc, raw)
                sink.append(raw)
            }
            at += chunk
        }
        if entry.dataType != TensorBundleDataType.variant, CRC32C.unmasked(entry.crc32c) != crc {
            throw CheckpointError(.malformed, file: path, place: entry.key, problem: String(format: "checksum mismatch: the %d bytes at offset %d have CRC-32C 0x%08x, the index records 0x%08x (the data file is damaged); nothing was written", entry.size, entry.offset, crc, CRC32C.unmasked(entry.crc32c)))
        }
    }

    /// `fsync` of the file at `path` (the index's temporary, flushed before the data file is moved
    /// into place); `file` names the target in errors.
    private static func flush(_ path: String, file: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CheckpointError(.writeFailed, file: file, problem: "cannot reopen the new file to flush it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw CheckpointError(.writeFailed, file: file, problem: "cannot flush to disk: \(String(cString: strerror(errno)))")
        }
    }
}
