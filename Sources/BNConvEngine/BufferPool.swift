import BNConvCore
import BNConvModel
import BNConvInterop

/// Reuses float buffers by exact size, so a run after the first allocates nothing.
final class BufferPool {
    private var free: [Int: [FloatBuffer]] = [:]
    /// The buffer streamed weights are made in (``withWeightScratch(_:_:)``).
    private var weightBuffer: FloatBuffer?

    /// A buffer of exactly `count` elements (reused when one is free), with one reference.
    func take(_ count: Int) -> FloatBuffer {
        let buffer = free[count]?.popLast() ?? FloatBuffer(capacity: count)
        buffer.references = 1
        return buffer
    }

    /// Drops one reference; the buffer becomes reusable when none is left.
    func release(_ buffer: FloatBuffer) {
        buffer.references -= 1
        if buffer.references == 0 { free[buffer.capacity, default: []].append(buffer) }
    }

    /// Room for `count` floats for the duration of `body`, in one buffer kept for weights made at
    /// each use (``KernelWeights``) and grown to the largest asked for: a run makes its weights one
    /// at a time, and the pages stay mapped from one weight to the next. Not for nested use.
    func withWeightScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if (weightBuffer?.capacity ?? -1) < count { weightBuffer = FloatBuffer(capacity: count) }
        return try body(weightBuffer!.base)
    }

    /// A scratch buffer of `count` elements for the duration of `body`.
    func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = take(count)
        defer { release(buffer) }
        return try body(buffer.base)
    }
}
