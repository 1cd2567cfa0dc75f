/// What a tensor bundle's header entry says (`BundleHeaderProto` under the empty key): how many
/// data files there are, the byte order of the stored tensors, and the format version.
package struct TensorBundleHeader: Sendable, Equatable {
    /// The byte order of the stored tensors (`BundleHeaderProto.Endianness`).
    package enum Endianness: Int32, Sendable {
        /// Little-endian (0): the only order bnconv reads.
        case little = 0
        /// Big-endian (1).
        case big = 1
    }

    /// How many data files (`PREFIX.data-SSSSS-of-NNNNN`) the bundle has.
    package var numShards: Int
    /// The stored tensors' byte order.
    package var endianness: Endianness
    /// `VersionDef.producer`: the bundle format version of the writer (1 for TensorFlow's).
    package var producer: Int32
    /// `VersionDef.min_consumer`: the oldest reader version that may read the bundle.
    package var minConsumer: Int32
    /// `VersionDef.bad_consumers`: reader versions that must not read it.
    package var badConsumers: [Int32]

    /// A header with each field given.
    package init(numShards: Int, endianness: Endianness = .little, producer: Int32 = 1, minConsumer: Int32 = 0, badConsumers: [Int32] = []) {
        self.numShards = numShards
        self.endianness = endianness
        self.producer = producer
        self.minConsumer = minConsumer
        self.badConsumers = badConsumers
    }
}
