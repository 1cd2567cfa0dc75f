import CBNConvProto
import CProtobufC
import BNConvCore

/// A Swift copy of a TensorFlow `BundleHeaderProto` (`tensorflow/core/protobuf/tensor_bundle.proto`):
/// the value stored under the empty key of a tensor bundle's index. Decoded and encoded by
/// protobuf-c; fields the schema does not name are kept as their bytes and written after the known
/// ones, as protobuf C++ does.
package struct ProtobufBundleHeader: Sendable, Equatable {
    /// How many data files the bundle has.
    package var numShards: Int32
    /// `Endianness`: 0 little-endian, 1 big-endian.
    package var endianness: Int32
    /// `VersionDef.producer`.
    package var producer: Int32
    /// `VersionDef.min_consumer`.
    package var minConsumer: Int32
    /// `VersionDef.bad_consumers`.
    package var badConsumers: [Int32]
    /// Whether `version` is present (TensorFlow always writes it).
    package var hasVersion: Bool
    /// The fields protobuf-c did not know, as they were encoded.
    package var unknownFields: [UInt8]

    /// A header with each field given.
    package init(numShards: Int32, endianness: Int32 = 0, producer: Int32 = 1, minConsumer: Int32 = 0,
                 badConsumers: [Int32] = [], hasVersion: Bool = true, unknownFields: [UInt8] = []) {
        self.numShards = numShards
        self.endianness = endianness
        self.producer = producer
        self.minConsumer = minConsumer
        self.badConsumers = badConsumers
        self.hasVersion = hasVersion
        self.unknownFields = unknownFields
    }

    /// Decodes `bytes` (checked on the wire first, ``ProtobufWireCheck``); `file` and `place` name
    /// the value in errors.
    package init(decoding bytes: UnsafeRawBufferPointer, file: String, place: String) throws {
        let unpacked = try withUnsafePointer(to: tensorflow__bundle_header_proto__descriptor) { descriptor in
            try ProtobufMessage.checked(bytes, descriptor: descriptor, what: "BundleHeaderProto", file: file, place: place) { tensorflow__bundle_header_proto__unpack(nil, $0, $1) }
        }
        let message = unpacked.root(as: Tensorflow__BundleHeaderProto.self)
        let m = message.pointee
        self.init(numShards: m.num_shards, endianness: Int32(bitPattern: m.endianness.rawValue),
                  producer: m.version?.pointee.producer ?? 0, minConsumer: m.version?.pointee.min_consumer ?? 0,
                  badConsumers: m.version.map { ProtobufCAllocation.array($0.pointee.bad_consumers, $0.pointee.n_bad_consumers) } ?? [],
                  hasVersion: m.version != nil,
                  unknownFields: ProtobufUnknownFields.bytes(in: bytes, known: 1...3))
    }

    /// The encoded message: the known fields as protobuf-c packs them (in field order, zero values
    /// of proto3 left out), then the unknown ones.
    package func encoded() -> [UInt8] {
        typealias Codec = ProtobufNodeDefCodec
        let message = Codec.mallocMessage(Tensorflow__BundleHeaderProto.self) { tensorflow__bundle_header_proto__init($0) }
        defer { ProtobufCAllocation.freeMessage(message) }
        message.pointee.num_shards = numShards
        message.pointee.endianness = Tensorflow__BundleHeaderProto__Endianness(rawValue: UInt32(bitPattern: endianness))
        if hasVersion {
            let version = Codec.mallocMessage(Tensorflow__VersionDef.self) { tensorflow__version_def__init($0) }
            version.pointee.producer = producer
            version.pointee.min_consumer = minConsumer
            version.pointee.n_bad_consumers = badConsumers.count
            version.pointee.bad_consumers = Codec.mallocCopy(badConsumers)
            message.pointee.version = version
        }
        let size = tensorflow__bundle_header_proto__get_packed_size(message)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = tensorflow__bundle_header_proto__pack(message, buffer.baseAddress)
        } + unknownFields
    }
}
