import BNConvCore

/// One tensor for ``TensorBundleWriter`` to write: its key and where its value comes from.
package struct TensorBundleItem: Sendable {
    /// Where an item's value comes from.
    package enum Content: Sendable {
        /// A numeric tensor (any ``DType``; a deferred one is read from its source while writing).
        case tensor(Tensor)
        /// A DT_STRING tensor: its elements in row-major order and its shape.
        case strings([[UInt8]], shape: [Int])
        /// The tensor stored under `key` in another bundle, copied as stored: dtype (any, strings
        /// and dtypes bnconv does not decode among them), shape and bytes unchanged, and a
        /// partitioned tensor's slices kept as slices. Checksums are checked while copying.
        case copied(from: TensorBundle, key: String)
    }

    /// The key to store the tensor under (not empty: the empty key is the header's).
    package var key: String
    /// The value.
    package var content: Content

    /// An item storing `content` under `key`.
    package init(key: String, content: Content) {
        self.key = key
        self.content = content
    }
}
