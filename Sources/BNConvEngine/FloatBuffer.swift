import BNConvCore
import BNConvModel
import BNConvInterop

/// A float32 buffer owned by a ``BufferPool``; values that alias it (reshape, identity) share it,
/// and it returns to the pool when the last one is released.
final class FloatBuffer {
    /// The storage.
    let base: UnsafeMutablePointer<Float>
    /// Elements the storage holds.
    let capacity: Int
    /// Live values using the buffer (maintained by the executor).
    var references = 0

    /// Allocates `capacity` uninitialized floats (64-byte aligned).
    init(capacity: Int) {
        self.capacity = capacity
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(capacity, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
