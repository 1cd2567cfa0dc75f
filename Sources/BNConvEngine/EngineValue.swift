import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop
import BNConvOps

/// A value flowing through the executor: a shape over a pooled float buffer (C order), or, for a
/// value that is not float32 (shape arithmetic's int64, a comparison's bool, a float64 or float16
/// graph), its elements in ``typed``.
struct EngineValue {
    /// Dimensions, batch first.
    var shape: [Int]
    /// The storage (possibly shared with aliases); an empty buffer for a ``typed`` value.
    var buffer: FloatBuffer
    /// The elements of a value that is not float32 (only op-library kernels read these).
    var typed: HostTensor? = nil

    /// Element count.
    var count: Int { shape.reduce(1, *) }
    /// The element type.
    var dtype: DType { typed?.dtype ?? .float32 }
    /// The storage pointer.
    var pointer: UnsafeMutablePointer<Float> { buffer.base }

    /// A public float32 tensor copy of the value (one copy, straight into the tensor's bytes).
    func tensor() -> Tensor {
        if let typed { return typed.tensor() }
        let bytes = count * MemoryLayout<Float>.size
        return Tensor(dtype: .float32, shape: shape, exactBytes: [UInt8](unsafeUninitializedCapacity: bytes) { out, done in
            if bytes > 0 { memcpy(out.baseAddress!, buffer.base, bytes) }
            done = bytes
        })
    }
}
