import Foundation
import BNConvCore
import BNConvInterop

/// The index file of a tensor bundle (`PREFIX.index`), read and checked: a table (``TableReader``)
/// whose first entry, under the empty key, is the `BundleHeaderProto` and whose others are one
/// `BundleEntryProto` per tensor and per slice of a partitioned tensor
/// (`tensorflow/core/util/tensor_bundle/tensor_bundle.cc`, `BundleReader`).
///
/// Checked here, before any data file is opened: the table itself; the header (little-endian only;
/// a version this reader may read, as `CheckVersions` decides for bundle version 1); every entry's
/// message, shape (known rank, no negative dimension, an element count that fits), shard (one of
/// the header's), offset and size (non-negative, their sum without overflow); every tensor key
/// UTF-8; every slice of a partitioned tensor within its shape, stored under the key
/// ``TensorSliceKey`` makes, with the tensor's dtype and the slice's shape. What needs the data
/// (sizes against dtype and shape, the data files' lengths, checksums, the slices' tiling) is
/// checked by ``TensorBundle`` when a tensor is read.
package struct TensorBundleIndex: Sendable {
    /// The bundle format version this reader is (`kTensorBundleVersion`).
    static let readerVersion: Int32 = 1

    /// The index file's path, for errors.
    package let file: String
    /// The header.
    package let header: TensorBundleHeader
    /// Every entry but the header, in table order (slice entries among them).
    let records: [TensorBundleRecord]
    /// Where each key's record is in ``records``.
    let positions: [[UInt8]: Int]
    /// How many tables blocks held the entries (for tests).
    package let dataBlockCount: Int

    /// Reads the index held in `bytes`; `file` names it in errors; the keys may decode to at most
    /// `limits.totalAllowance(fileBytes:)` bytes. `verifiesChecksums` false is for the fuzzer only
    /// (``TableReader``).
    package init(bytes: UnsafeRawBufferPointer, file: String, limits: ReadLimits = ReadLimits(), verifiesChecksums: Bool = true) throws {
        let table = try TableReader(bytes: bytes, file: file, maxKeyBytes: limits.totalAllowance(fileBytes: bytes.count),
                                    verifiesChecksums: verifiesChecksums)
        guard let first = table.entries.first, first.key.isEmpty else {
            throw CheckpointError(.malformed, file: file, problem: "the index has no header entry (the empty key comes first in every tensor bundle)")
        }
        let message = try ProtobufBundleHeader(decoding: UnsafeRawBufferPointer(rebasing: bytes[first.value]), file: file, place: "header")
        guard message.endianness == 0 else {
            throw CheckpointError(.unsupported, file: file, place: "header", problem: message.endianness == 1
                ? "the bundle is big-endian; bnconv reads little-endian bundles only"
                : "the header's endianness is \(message.endianness) (0 little, 1 big)")
        }
        guard message.minConsumer <= TensorBundleIndex.readerVersion, !message.badConsumers.contains(TensorBundleIndex.readerVersion) else {
            throw CheckpointError(.unsupported, file: file, place: "header", problem: "the bundle needs a reader of version \(message.minConsumer) or later (bad versions \(message.badConsumers)); bnconv reads version \(TensorBundleIndex.readerVersion)")
        }
        guard message.numShards >= 1 else {
            throw CheckpointError(.malformed, file: file, place: "header", problem: "the header declares \(message.numShards) data files")
        }
        let header = TensorBundleHeader(numShards: Int(message.numShards), endianness: .little, producer: message.producer,
                                        minConsumer: message.minConsumer, badConsumers: message.badConsumers)

        var records: [TensorBundleRecord] = []
        records.reserveCapacity(table.entries.count - 1)
        var positions: [[UInt8]: Int] = [:]
        for tableEntry in table.entries.dropFirst() {
            let keyBytes = tableEntry.key
            let slice = keyBytes.first == 0 ? TensorSliceKey.decode(keyBytes) : nil
            let display: String
            if slice != nil {
                display = TensorBundleIndex.display(keyBytes)
            } else if let text = String(validating: keyBytes, as: UTF8.self) {
                display = text
            } else {
                throw CheckpointError(.unsupported, file: file, problem: "the key \(TensorBundleIndex.display(keyBytes)) is not UTF-8 text")
            }
            let m = try ProtobufBundleEntry(decoding: UnsafeRawBufferPointer(rebasing: bytes[tableEntry.value]), file: file, place: display)
            func fail(_ problem: String) -> CheckpointError { CheckpointError(.malformed, file: file, place: display, problem: problem) }
            guard !m.unknownRank, m.shape.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }) else {
                throw fail("invalid tensor shape \(m.unknownRank ? "(unknown rank)" : "\(m.shape)")")
            }
            let shape = m.shape.map { Int($0) }
            guard ElementCount.of(shape) != nil else { throw fail("the shape \(shape) has more elements than fit in a 64-bit count") }
            guard m.offset >= 0, m.size >= 0, m.offset <= Int64.max - m.size else {
                throw fail("invalid stored range: offset \(m.offset), size \(m.size)")
            }
            if m.slices.isEmpty {
                guard m.shardID >= 0, Int(m.shardID) < header.numShards else {
                    throw fail("the entry's data file is shard \(m.shardID) of a bundle of \(header.numShards)")
                }
            }
            let entry = TensorBundleEntry(key: display, dataType: m.dtype, shape: shape, shardID: Int(m.shardID),
                                          offset: Int(m.offset), size: Int(m.size), crc32c: m.crc32c, slices: m.slices)
            positions[keyBytes] = records.count
            records.append(TensorBundleRecord(keyBytes: keyBytes, entry: entry, message: m, isSlice: slice != nil))
        }
        // Partitioned tensors: each slice within the shape and stored where its key says.
        for record in records where !record.entry.slices.isEmpty {
            let entry = record.entry
            func fail(_ problem: String) -> CheckpointError { CheckpointError(.malformed, file: file, place: entry.key, problem: problem) }
            guard !record.isSlice else { throw fail("a slice entry lists slices of its own") }
            for extents in entry.slices {
                guard extents.count == entry.shape.count else {
                    throw fail("a slice has \(extents.count) extents for a tensor of rank \(entry.shape.count)")
                }
                var sliceShape: [Int] = []
                for (extent, dimension) in zip(extents, entry.shape) {
                    guard let length = extent.length else {
                        guard extent.start == 0 else { throw fail("a whole-dimension extent starts at \(extent.start)") }
                        sliceShape.append(dimension)
                        continue
                    }
                    guard extent.start >= 0, length >= 0, extent.start <= Int64(dimension) - length else {
                        throw fail("the slice \(TensorBundleIndex.describe(extents)) lies outside the shape \(entry.shape)")
                    }
                    sliceShape.append(Int(length))
                }
                let sliceKey = TensorSliceKey.encode(name: record.keyBytes, extents: extents)
                guard let position = positions[sliceKey] else {
                    throw fail("the slice \(TensorBundleIndex.describe(extents)) has no entry in the index")
                }
                let stored = records[position].entry
                guard stored.dataType == entry.dataType, stored.shape == sliceShape else {
                    throw fail("the slice \(TensorBundleIndex.describe(extents)) is stored as \(TensorBundleDataType.name(stored.dataType)) \(stored.shape), not \(TensorBundleDataType.name(entry.dataType)) \(sliceShape)")
                }
            }
        }
        self.file = file
        self.header = header
        self.records = records
        self.positions = positions
        self.dataBlockCount = table.dataBlocks.count
    }

    /// The record of `key`, or nil.
    func record(_ key: [UInt8]) -> TensorBundleRecord? {
        positions[key].map { records[$0] }
    }

    /// A key for messages: a slice key as `NAME[start:length,...]` (`-` for a whole dimension),
    /// other text as it is, other bytes in hex.
    static func display(_ key: [UInt8]) -> String {
        if key.first == 0, let (name, extents) = TensorSliceKey.decode(key) {
            return "\(display(name))\(describe(extents))"
        }
        if let text = String(validating: key, as: UTF8.self) { return text.count > 200 ? String(text.prefix(200)) + "..." : text }
        return "0x" + key.prefix(100).map { String(format: "%02x", $0) }.joined() + (key.count > 100 ? "..." : "")
    }

    /// `[start:length,...]`, `-` for a whole dimension.
    static func describe(_ extents: [TensorSliceExtent]) -> String {
        let parts: [String] = extents.map { extent in
            guard let length = extent.length else { return "-" }
            return "\(extent.start):\(length)"
        }
        return "[" + parts.joined(separator: ",") + "]"
    }
}
