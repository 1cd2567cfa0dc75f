import Foundation
import Synchronization
import BNConvCore
import BNConvInterop

/// A V2 tensor-bundle checkpoint opened for reading: `PREFIX.index` (a table of one entry per
/// tensor, ``TensorBundleIndex``) and the data files `PREFIX.data-SSSSS-of-NNNNN` it points into
/// (`tensorflow/core/util/tensor_bundle/tensor_bundle.cc`, `BundleReader`; docs/formats.md, Tensor
/// bundles).
///
/// The index is read and checked when the bundle is opened; each data file is opened (and mapped
/// read-only, a range at a time) when a tensor in it is first read. Every read checks the entry's
/// size against its dtype and shape, its bytes against the data file's length and their CRC-32C
/// against the entry's. A tensor stored in one piece is returned deferred, its bytes lent from a
/// mapping of the data file (``FileRangeSource``), never copied; a partitioned one is assembled
/// from its slices.
package final class TensorBundle: Sendable {
    /// The prefix the bundle was opened at (`model.ckpt` for `model.ckpt.index`).
    package let prefix: String
    /// The header: data file count, byte order, version.
    package let header: TensorBundleHeader
    /// The bounds on what reading allocates.
    package let limits: ReadLimits
    /// The index.
    let index: TensorBundleIndex
    /// The data files opened so far, by shard.
    private let shards = Mutex<[Int: MappedFile]>([:])

    /// Opens the bundle at `prefix`: reads and checks `PREFIX.index`.
    package init(prefix: String, limits: ReadLimits = ReadLimits()) throws {
        let path = TensorBundleNaming.indexPath(prefix)
        guard let file = MappedFile(path: path) else {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot open the bundle's index: \(String(cString: strerror(errno)))")
        }
        let index = try file.withBytes(offset: 0, count: file.size) { try TensorBundleIndex(bytes: $0, file: path, limits: limits) }
        self.prefix = prefix
        self.header = index.header
        self.limits = limits
        self.index = index
    }

    /// Reads an index from bytes in memory (`file` names it in errors): what opening a bundle
    /// checks before any data file is opened. For the fuzzer and tests (`verifiesChecksums` false
    /// lets the fuzzer's mutations past the blocks' CRCs).
    package static func readIndex(bytes: [UInt8], file: String, limits: ReadLimits = ReadLimits(), verifiesChecksums: Bool = true) throws -> TensorBundleIndex {
        try bytes.withUnsafeBytes { try TensorBundleIndex(bytes: $0, file: file, limits: limits, verifiesChecksums: verifiesChecksums) }
    }

    /// The tensors' keys in table (byte) order: the header's empty key and the keys of slices of
    /// partitioned tensors left out.
    package var keys: [String] {
        index.records.lazy.filter { !$0.isSlice }.map(\.entry.key)
    }

    /// The tensors' keys in the order their bytes lie in the data files (shard, then offset; a
    /// partitioned tensor where its first stored slice lies): writing ``TensorBundleItem/Content/copied(from:key:)``
    /// items in this order reproduces the data files' layout.
    package var keysInStorageOrder: [String] {
        let stored = index.records.filter { !$0.isSlice }.map { record -> (key: String, shard: Int, offset: Int) in
            if let first = record.entry.slices.first,
               let slice = index.record(TensorSliceKey.encode(name: record.keyBytes, extents: first)) {
                return (record.entry.key, slice.entry.shardID, slice.entry.offset)
            }
            return (record.entry.key, record.entry.shardID, record.entry.offset)
        }
        return stored.enumerated().sorted { a, b in
            (a.element.shard, a.element.offset, a.offset) < (b.element.shard, b.element.offset, b.offset)
        }.map(\.element.key)
    }

    /// The entry of `key` (a tensor's key; slice keys are not looked up), or nil.
    package func entry(_ key: String) -> TensorBundleEntry? {
        guard let record = index.record(Array(key.utf8)), !record.isSlice else { return nil }
        return record.entry
    }

    /// The record of a tensor's key, or an error naming the index and the key.
    func record(_ key: String) throws -> TensorBundleRecord {
        guard let record = index.record(Array(key.utf8)), !record.isSlice else {
            throw CheckpointError(.malformed, file: index.file, place: key, problem: "the bundle has no tensor of this name")
        }
        return record
    }

    /// The tensor stored under `key`, of any ``DType``: deferred and lent from a mapping of its data
    /// file when stored in one piece, assembled in memory from its slices when partitioned; its
    /// CRC-32C (each slice's) checked either way.
    package func tensor(_ key: String) throws -> Tensor {
        let record = try record(key)
        let entry = record.entry
        guard let dtype = entry.dtype else {
            let name = TensorBundleDataType.name(entry.dataType)
            throw CheckpointError(.unsupported, file: index.file, place: key, problem: entry.dataType == TensorBundleDataType.string
                ? "the tensor is \(name); read it with strings(_:)" : "the tensor's dtype \(name) is not one bnconv reads")
        }
        if entry.slices.isEmpty {
            let (file, path) = try storedRange(record)
            try checkRawCRC(record, file: file, path: path)
            return Tensor(dtype: dtype, shape: entry.shape, source: FileRangeSource(file: file, offset: entry.offset, count: entry.size))
        }
        return try assemble(record, dtype: dtype)
    }

    /// The elements of the DT_STRING tensor stored under `key`, in row-major order, with
    /// TensorFlow's length checksum and entry checksum checked.
    package func strings(_ key: String) throws -> [[UInt8]] {
        let record = try record(key)
        let entry = record.entry
        guard entry.dataType == TensorBundleDataType.string else {
            throw CheckpointError(.unsupported, file: index.file, place: key, problem: "the tensor is \(TensorBundleDataType.name(entry.dataType)), not DT_STRING")
        }
        guard entry.slices.isEmpty else {
            throw CheckpointError(.unsupported, file: index.file, place: key, problem: "a partitioned DT_STRING tensor is not supported (TensorFlow restores none)")
        }
        let (file, path) = try storedRange(record)
        return try file.withBytes(offset: entry.offset, count: entry.size) { raw in try decodeStrings(record, raw, path: path) }
    }

    /// The bytes stored for `key` exactly as they are in the data file (raw elements, or the string
    /// encoding), their checksum checked: for copying a tensor unchanged. A partitioned tensor has
    /// no bytes of its own (its slices do): refused.
    package func storedBytes(_ key: String) throws -> [UInt8] {
        let record = try record(key)
        guard record.entry.slices.isEmpty else {
            throw CheckpointError(.unsupported, file: index.file, place: key, problem: "the tensor is partitioned: its bytes are stored in \(record.entry.slices.count) slices under their own keys")
        }
        return try verifiedBytes(record)
    }

    /// The stored bytes of any record (a slice's too), checked as its dtype requires, copied
    /// (``ReadLimits/maxTensorBytes`` bounds the copy).
    func verifiedBytes(_ record: TensorBundleRecord) throws -> [UInt8] {
        let entry = record.entry
        let (file, path) = try storedRange(record)
        if let refusal = limits.refusal(count: entry.size, elementBytes: 1) {
            throw CheckpointError(.unsupported, file: path, place: entry.key, problem: "the tensor's \(entry.size) stored bytes are not copied: \(refusal)")
        }
        if entry.dataType == TensorBundleDataType.string {
            return try file.withBytes(offset: entry.offset, count: entry.size) { raw in
                _ = try decodeStrings(record, raw, path: path)
                return Array(raw)
            }
        }
        return try file.withBytes(offset: entry.offset, count: entry.size) { raw in
            if entry.dataType != TensorBundleDataType.variant {
                try checkCRC(record, actual: CRC32C.value(raw), path: path)
            }
            return Array(raw)
        }
    }

    /// Decodes a DT_STRING record's stored bytes `raw`, with both checksums checked.
    private func decodeStrings(_ record: TensorBundleRecord, _ raw: UnsafeRawBufferPointer, path: String) throws -> [[UInt8]] {
        let decoded: (values: [[UInt8]], crc: UInt32)
        do {
            decoded = try TensorBundleStrings.decode(raw, count: record.entry.elementCount)
        } catch {
            throw CheckpointError(.malformed, file: path, place: record.entry.key, problem: error.problem)
        }
        try checkCRC(record, actual: decoded.crc, path: path)
        return decoded.values
    }

    /// The data file holding `record`'s bytes (opened now if need be) and its path, after checking
    /// the entry's size against its dtype and shape and its range against the file's length.
    func storedRange(_ record: TensorBundleRecord) throws -> (MappedFile, String) {
        let entry = record.entry
        if let dtype = entry.dtype {
            let (expected, overflow) = entry.elementCount.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, expected == entry.size else {
                throw CheckpointError(.malformed, file: index.file, place: entry.key, problem: "the entry's size is \(entry.size) bytes, but \(TensorBundleDataType.name(entry.dataType)) \(entry.shape) takes \(overflow ? "more than \(Int.max)" : "\(expected)") bytes")
            }
        } else if entry.dataType == TensorBundleDataType.string, entry.elementCount > 0,
                  entry.size < entry.elementCount || entry.size - entry.elementCount < 4 {
            throw CheckpointError(.malformed, file: index.file, place: entry.key, problem: "the entry's size is \(entry.size) bytes, less than \(entry.elementCount) strings' lengths and their checksum take")
        }
        let path = TensorBundleNaming.dataPath(prefix, shard: entry.shardID, of: header.numShards)
        let file = try shard(entry.shardID, path: path)
        guard entry.offset <= file.size - entry.size || (entry.size == 0 && entry.offset <= file.size) else {
            throw CheckpointError(.malformed, file: path, place: entry.key, problem: "the entry's bytes \(entry.offset)..<\(entry.offset + entry.size) lie past the end of the \(file.size)-byte data file (truncated)")
        }
        return (file, path)
    }

    /// The data file of `id`, opened once.
    private func shard(_ id: Int, path: String) throws -> MappedFile {
        if let open = shards.withLock({ $0[id] }) { return open }
        guard let file = MappedFile(path: path) else {
            let reason = String(cString: strerror(errno))
            throw CheckpointError(.cannotOpen, file: path, problem: "missing data file \((path as NSString).lastPathComponent) of the bundle \((prefix as NSString).lastPathComponent) (shard \(id) of \(header.numShards)): \(reason)")
        }
        return shards.withLock { opened in
            if let other = opened[id] { return other }
            opened[id] = file
            return file
        }
    }

    /// Checks the CRC-32C of a record's raw stored bytes against its entry.
    private func checkRawCRC(_ record: TensorBundleRecord, file: MappedFile, path: String) throws {
        try checkCRC(record, actual: CRC32C.of(file, offset: record.entry.offset, count: record.entry.size), path: path)
    }

    /// Throws when `actual` is not the CRC the entry records.
    private func checkCRC(_ record: TensorBundleRecord, actual: UInt32, path: String) throws {
        let stored = CRC32C.unmasked(record.entry.crc32c)
        guard stored == actual else {
            throw CheckpointError(.malformed, file: path, place: record.entry.key, problem: String(format: "checksum mismatch: the %d bytes at offset %d have CRC-32C 0x%08x, the index records 0x%08x (the data file is damaged)", record.entry.size, record.entry.offset, actual, stored))
        }
    }

    /// A partitioned tensor put together from its slices.
    private func assemble(_ record: TensorBundleRecord, dtype: DType) throws -> Tensor {
        let entry = record.entry
        if let refusal = limits.refusal(count: entry.elementCount, elementBytes: dtype.byteCount) {
            throw CheckpointError(.unsupported, file: index.file, place: entry.key, problem: "the partitioned tensor \(entry.shape) \(dtype) is not assembled: \(refusal)")
        }
        var assembly = TensorSliceAssembly(shape: entry.shape, elementBytes: dtype.byteCount)
        for extents in entry.slices {
            guard let slice = index.record(TensorSliceKey.encode(name: record.keyBytes, extents: extents)) else {
                throw CheckpointError(.malformed, file: index.file, place: entry.key, problem: "the slice \(TensorBundleIndex.describe(extents)) has no entry in the index")
            }
            let (file, path) = try storedRange(slice)
            try checkRawCRC(slice, file: file, path: path)
            let starts = zip(extents, entry.shape).map { extent, _ in Int(extent.start) }
            let lengths = zip(extents, entry.shape).map { extent, dimension in extent.length.map(Int.init) ?? dimension }
            let overlap = try file.withBytes(offset: slice.entry.offset, count: slice.entry.size) { raw in
                assembly.add(starts: starts, lengths: lengths, from: raw)
            }
            if let overlap {
                throw CheckpointError(.malformed, file: index.file, place: entry.key, problem: "the slices do not tile the tensor: the slice \(TensorBundleIndex.describe(extents)) covers element \(overlap) again")
            }
        }
        guard assembly.isComplete else {
            throw CheckpointError(.malformed, file: index.file, place: entry.key, problem: "the slices do not tile the tensor: they cover \(assembly.coveredCount) of its \(entry.elementCount) elements")
        }
        return Tensor(dtype: dtype, shape: entry.shape, exactBytes: assembly.bytes)
    }
}
