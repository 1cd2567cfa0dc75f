import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

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

    /// A public float32 tensor copy of the value (one copy, straight into the tensor's bytes).
    func tensor() -> Tensor {
        let bytes = count * MemoryLayout<Float>.size
        return Tensor(dtype: .float32, shape: shape, exactBytes: [UInt8](unsafeUninitializedCapacity: bytes) { out, done in
            if bytes > 0 { memcpy(out.baseAddress!, buffer.base, bytes) }
            done = bytes
        })
    }
}
