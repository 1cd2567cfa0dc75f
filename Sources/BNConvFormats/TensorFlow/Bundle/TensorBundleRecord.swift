import BNConvInterop

/// One entry of a tensor bundle's index as ``TensorBundleIndex`` keeps it: the key's bytes, the
/// entry as bnconv reads it, and the decoded message (with any fields bnconv does not know, so a
/// copy keeps them).
struct TensorBundleRecord: Sendable {
    /// The key as stored (a slice key is not text).
    var keyBytes: [UInt8]
    /// The entry (a slice's `key` is its display form, ``TensorBundleIndex/display(_:)``).
    var entry: TensorBundleEntry
    /// The decoded `BundleEntryProto`.
    var message: ProtobufBundleEntry
    /// Whether the key is a slice key of a partitioned tensor.
    var isSlice: Bool
}
