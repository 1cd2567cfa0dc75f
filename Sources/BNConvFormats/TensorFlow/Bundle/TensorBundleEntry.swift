import BNConvCore
import BNConvInterop

/// One tensor of a tensor bundle as its index describes it (`BundleEntryProto`): its TensorFlow
/// dtype and shape, where its bytes lie, their checksum, and, for a partitioned tensor, the slices
/// stored under their own keys (the entry then holds no bytes itself).
package struct TensorBundleEntry: Sendable, Equatable {
    /// The key (the tensor's name in the checkpoint).
    package var key: String
    /// The TensorFlow `DataType` number (DT_FLOAT = 1, DT_STRING = 7, ...).
    package var dataType: Int32
    /// The dimensions, outermost first.
    package var shape: [Int]
    /// Which data file holds the bytes.
    package var shardID: Int
    /// Where the bytes start in that file.
    package var offset: Int
    /// How many bytes are stored.
    package var size: Int
    /// The masked CRC-32C of the stored bytes, as stored (for DT_STRING, of TensorFlow's checksum
    /// sequence: lengths as uint32, length checksum, string bytes).
    package var crc32c: UInt32
    /// For a partitioned tensor, each slice's extents, one per dimension; empty otherwise.
    package var slices: [[TensorSliceExtent]]

    /// An entry with each field given.
    package init(key: String, dataType: Int32, shape: [Int], shardID: Int = 0, offset: Int = 0, size: Int = 0,
                 crc32c: UInt32 = 0, slices: [[TensorSliceExtent]] = []) {
        self.key = key
        self.dataType = dataType
        self.shape = shape
        self.shardID = shardID
        self.offset = offset
        self.size = size
        self.crc32c = crc32c
        self.slices = slices
    }

    /// The ``DType`` of the entry, or nil for a dtype bnconv does not hold in a ``Tensor`` (strings
    /// among them).
    package var dtype: DType? { TensorBundleDataType.dtype(dataType) }

    /// The number of elements (1 for a scalar).
    package var elementCount: Int { shape.reduce(1, *) }
}
