import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// What a kernel may use while it runs: the executor's buffer pool, the cores its run may keep
/// busy and which inputs it may overwrite.
final class KernelContext {
    /// The executor's pool.
    let pool: BufferPool
    /// The cores this run's kernels spread their work over (``RunOptions/threads``).
    let parallel: Parallel
    /// `reusable[i]`: input `i` has no later reader and its buffer no other user, so the output may take it.
    var reusable: [Bool] = []
    /// Collects the moments of every BatchNorm that normalizes with batch statistics, when not
    /// `nil` (the runner hands them to its caller after the step, outside the engine's work).
    var batchNormObservations: [BatchNormObservation]?

    /// A context over `pool` for a run on `parallel`'s cores.
    init(pool: BufferPool, parallel: Parallel) {
        self.pool = pool
        self.parallel = parallel
    }

    /// A fresh value of `shape` (uninitialized).
    func allocate(_ shape: [Int]) throws -> EngineValue {
        EngineValue(shape: shape, buffer: pool.take(try KernelContext.elementCount(shape)))
    }

    /// The most float32 elements one value may hold: the machine's physical memory's worth
    /// (a larger one could not be made, and would end the process instead of failing).
    static let maximumElements = Int(clamping: ProcessInfo.processInfo.physicalMemory / 4)

    /// The element count of `shape`, computed with overflow checks and bounded by
    /// ``maximumElements``: sizes come from files and user options, and must fail, not trap.
    static func elementCount(_ shape: [Int]) throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw EngineError.shapeMismatch("a value's shape", expected: [], got: shape) }
        guard let count = ElementCount.of(shape, atMost: maximumElements) else {
            throw EngineError.tooLarge(shape: shape, limit: maximumElements)
        }
        return count
    }

    /// A value of `shape` that takes input `index`'s buffer when allowed and the sizes agree
    /// (element-wise ops computing in place), else a fresh one.
    func output(_ shape: [Int], reusing index: Int, of inputs: [EngineValue]) throws -> EngineValue {
        let count = try KernelContext.elementCount(shape)
        if index < reusable.count, reusable[index], inputs[index].buffer.capacity == count {
            return alias(inputs[index], shape: shape)
        }
        return EngineValue(shape: shape, buffer: pool.take(count))
    }

    /// A new value sharing `value`'s buffer with another shape (reshape, flatten, identity).
    func alias(_ value: EngineValue, shape: [Int]) -> EngineValue {
        value.buffer.references += 1
        return EngineValue(shape: shape, buffer: value.buffer)
    }

    /// Returns a temporary value's buffer to the pool.
    func release(_ value: EngineValue) { pool.release(value.buffer) }
}
