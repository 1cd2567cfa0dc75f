import BNConvCore

/// An attribute's content read generically (to copy root attributes into a rewritten file).
package enum HDF5AttributeValue: Equatable, Sendable {
    /// Strings with their encoding; `shape` is `[]` for a scalar.
    case strings([String], HDF5StringEncoding, shape: [Int])
    /// Numbers as raw little-endian bytes of `dtype`; `shape` is `[]` for a scalar.
    case numbers(DType, shape: [Int], bytes: [UInt8])
}
