/// A value flowing through the executor: a shape over a pooled float buffer (C order).
struct EngineValue {
    /// Dimensions, batch first.
    var shape: [Int]
    /// The storage (possibly shared with aliases).
    var buffer: FloatBuffer

    /// Element count.
    var count: Int { shape.reduce(1, *) }
    /// The storage pointer.
    var pointer: UnsafeMutablePointer<Float> { buffer.base }

    /// A public float32 tensor copy of the value.
    func tensor() -> Tensor {
        Tensor(shape: shape, floats: Array(UnsafeBufferPointer(start: buffer.base, count: count)))
    }
}
