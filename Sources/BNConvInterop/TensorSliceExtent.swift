/// One dimension of a slice of a tensor (TensorFlow's `TensorSliceProto.Extent`,
/// `tensorflow/core/framework/tensor_slice.proto`): where the slice starts along it and how many
/// elements it takes, or the whole dimension when `length` is nil (an extent without `length`).
package struct TensorSliceExtent: Sendable, Hashable {
    /// The first index taken along the dimension.
    package var start: Int64
    /// How many indices are taken; nil for the whole dimension (`start` is then 0).
    package var length: Int64?

    /// An extent of `length` indices from `start`, or the whole dimension (`length` nil).
    package init(start: Int64, length: Int64?) {
        self.start = start
        self.length = length
    }

    /// The whole dimension.
    package static let full = TensorSliceExtent(start: 0, length: nil)
}
