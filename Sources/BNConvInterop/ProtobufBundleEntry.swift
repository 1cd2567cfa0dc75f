import CBNConvProto
import CProtobufC
import BNConvCore

/// A Swift copy of a TensorFlow `BundleEntryProto` (`tensorflow/core/protobuf/tensor_bundle.proto`):
/// what a tensor bundle's index holds for one tensor: its dtype and shape, where its bytes lie
/// (shard, offset, size), their masked CRC-32C, and for a partitioned tensor the slices stored
/// under their own keys. Decoded and encoded by protobuf-c; top-level fields the schema does not
/// name are kept as their bytes and written after the known ones, as protobuf C++ does (a shape
/// dimension's `name`, which no bundle writer sets, is not kept).
package struct ProtobufBundleEntry: Sendable, Equatable {
    /// The TensorFlow `DataType` number.
    package var dtype: Int32
    /// The dimensions (`TensorShapeProto.dim[].size`).
    package var shape: [Int64]
    /// Whether the shape says `unknown_rank` (never in a valid bundle).
    package var unknownRank: Bool
    /// Whether the message has a `shape` at all.
    package var hasShape: Bool
    /// Which data file holds the bytes.
    package var shardID: Int32
    /// Where the bytes start in that file.
    package var offset: Int64
    /// How many bytes there are.
    package var size: Int64
    /// The masked CRC-32C of the stored bytes (for DT_STRING, of TensorFlow's checksum sequence).
    package var crc32c: UInt32
    /// For a partitioned tensor, each slice's extents (one per dimension).
    package var slices: [[TensorSliceExtent]]
    /// The fields protobuf-c did not know, as they were encoded.
    package var unknownFields: [UInt8]

    /// An entry with each field given.
    package init(dtype: Int32, shape: [Int64], unknownRank: Bool = false, hasShape: Bool = true, shardID: Int32 = 0,
                 offset: Int64 = 0, size: Int64 = 0, crc32c: UInt32 = 0, slices: [[TensorSliceExtent]] = [], unknownFields: [UInt8] = []) {
        self.dtype = dtype
        self.shape = shape
        self.unknownRank = unknownRank
        self.hasShape = hasShape
        self.shardID = shardID
        self.offset = offset
        self.size = size
        self.crc32c = crc32c
        self.slices = slices
        self.unknownFields = unknownFields
    }

    /// Decodes `bytes` (checked on the wire first, ``ProtobufWireCheck``); `file` and `place` name
    /// the value in errors.
    package init(decoding bytes: UnsafeRawBufferPointer, file: String, place: String) throws {
        let unpacked = try withUnsafePointer(to: tensorflow__bundle_entry_proto__descriptor) { descriptor in
            try ProtobufMessage.checked(bytes, descriptor: descriptor, what: "BundleEntryProto", file: file, place: place) { tensorflow__bundle_entry_proto__unpack(nil, $0, $1) }
        }
        let message = unpacked.root(as: Tensorflow__BundleEntryProto.self)
        let m = message.pointee
        let shape = m.shape.map { s in ProtobufCAllocation.messages(s.pointee.dim, s.pointee.n_dim).map { $0.pointee.size } } ?? []
        let slices = ProtobufCAllocation.messages(m.slices, m.n_slices).map { slice in
            ProtobufCAllocation.messages(slice.pointee.extent, slice.pointee.n_extent).map { e in
                TensorSliceExtent(start: e.pointee.start,
                                  length: e.pointee.has_length_case == TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH ? e.pointee.length : nil)
            }
        }
        self.init(dtype: Int32(bitPattern: m.dtype.rawValue), shape: shape, unknownRank: m.shape?.pointee.unknown_rank ?? 0 != 0,
                  hasShape: m.shape != nil, shardID: m.shard_id, offset: m.offset, size: m.size, crc32c: m.crc32c,
                  slices: slices, unknownFields: ProtobufUnknownFields.bytes(in: bytes, known: 1...7))
    }

    /// The encoded message: the known fields as protobuf-c packs them (in field order, zero values
    /// of proto3 left out), then the unknown ones.
    package func encoded() -> [UInt8] {
        typealias Codec = ProtobufNodeDefCodec
        let message = Codec.mallocMessage(Tensorflow__BundleEntryProto.self) { tensorflow__bundle_entry_proto__init($0) }
        defer { ProtobufCAllocation.freeMessage(message) }
        message.pointee.dtype = Tensorflow__DataType(rawValue: UInt32(bitPattern: dtype))
        if hasShape {
            let s = Codec.build(shape: shape)
            s.pointee.unknown_rank = unknownRank ? 1 : 0
            message.pointee.shape = s
        }
        message.pointee.shard_id = shardID
        message.pointee.offset = offset
        message.pointee.size = size
        message.pointee.crc32c = crc32c
        if !slices.isEmpty {
            message.pointee.n_slices = slices.count
            message.pointee.slices = Codec.mallocCopy(slices.map { extents -> UnsafeMutablePointer<Tensorflow__TensorSliceProto>? in
                let slice = Codec.mallocMessage(Tensorflow__TensorSliceProto.self) { tensorflow__tensor_slice_proto__init($0) }
                slice.pointee.n_extent = extents.count
                slice.pointee.extent = Codec.mallocCopy(extents.map { extent -> UnsafeMutablePointer<Tensorflow__TensorSliceProto__Extent>? in
                    let e = Codec.mallocMessage(Tensorflow__TensorSliceProto__Extent.self) { tensorflow__tensor_slice_proto__extent__init($0) }
                    e.pointee.start = extent.start
                    if let length = extent.length {
                        e.pointee.has_length_case = TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH
                        e.pointee.length = length
                    }
                    return e
                })
                return slice
            })
        }
        let size = tensorflow__bundle_entry_proto__get_packed_size(message)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = tensorflow__bundle_entry_proto__pack(message, buffer.baseAddress)
        } + unknownFields
    }
}
