/// A convolution kernel as the float64 reference's convolutions (``Float64Convolution``) read it:
/// its shape in their arrangement and its values, lent for the length of one call
/// (``Float64Kernel/withForward(_:_:spatialRank:absolute:_:)``).
///
/// A float32 kernel is read as float32 and widened as each value is used (every float32 is a
/// Double exactly, so the sums are the same as over a widened copy): one stored in the arrangement
/// is lent where it lies (from its file's mapping, no copy); another is arranged into a float32
/// copy, half the size of a Double one. Other dtypes, and absolute values, are Doubles.
struct Float64KernelView {
    /// The values, in ``shape``'s C order.
    enum Elements {
        /// float32 values, widened when read.
        case floats(UnsafeBufferPointer<Float>)
        /// Double values.
        case doubles(UnsafeBufferPointer<Double>)
    }

    /// The dimensions in the convolution's arrangement, outermost first.
    let shape: [Int]
    /// The values.
    let elements: Elements
}
