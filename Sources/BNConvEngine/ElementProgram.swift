import BNConvCore
import BNConvModel

/// A run of element-wise steps fused into a producer's epilogue (``PostOp/program(_:)``): the
/// arithmetic, clips and activations an exporter writes one node at a time (PaddleOCR's
/// `x * clip(x + 3, 0, 6) / 6` hard-swish between `scale * x + bias` maps, a `x * sigmoid(x)`
/// swish), evaluated on a cache-sized chunk of a row at a time instead of one pass over memory
/// per node.
///
/// Register 0 is the values the program is applied to; every step writes a register of its own,
/// and ``result`` is copied back over register 0 at the end. Each step computes exactly what its
/// node's own kernel computes (the same float32 operation in the same operand order), so the fused
/// values equal the unfused ones bit for bit.
struct ElementProgram: Equatable {
    /// A binary operation, with the op library's definitions.
    enum Arithmetic: Equatable {
        /// `a + b`.
        case add
        /// `a - b`.
        case subtract
        /// `a * b`.
        case multiply
        /// `a / b`.
        case divide
        /// ONNX `Min`: the smaller, NaN if either is NaN.
        case minimum
        /// ONNX `Max`: the larger, NaN if either is NaN.
        case maximum
        /// A Keras `Minimum` merge: Swift's `min`.
        case mergeMinimum
        /// A Keras `Maximum` merge: Swift's `max`.
        case mergeMaximum
    }

    /// Where a step reads an operand.
    enum Operand: Equatable {
        /// A register.
        case register(Int)
        /// A float32 constant.
        case constant(Float)
    }

    /// One step.
    enum Step: Equatable {
        /// `into = a op b`.
        case arithmetic(Arithmetic, Operand, Operand, into: Int)
        /// `into = f(register)`.
        case activation(Activation, Int, into: Int)
    }

    /// The steps, in order.
    let steps: [Step]
    /// Registers, register 0 included.
    let registers: Int
    /// The register holding the program's value at the end.
    let result: Int

    /// Elements evaluated at a time: every register's chunk stays in the L1 cache.
    static let chunk = 256

    /// Applies the program to `count` values at `x`, in place, on the calling thread.
    func apply(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        guard n > 0 else { return }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(registers - 1, 1) * Self.chunk) { scratch in
            var lo = 0
            while lo < n {
                let m = min(Self.chunk, n - lo)
                let base = x + lo
                func register(_ r: Int) -> UnsafeMutablePointer<Float> {
                    r == 0 ? base : scratch.baseAddress! + (r - 1) * Self.chunk
                }
                for step in steps {
                    switch step {
                    case let .arithmetic(op, a, b, into):
                        let y = register(into)
                        switch (a, b) {
                        case let (.register(p), .register(q)):
                            Self.combine(op, register(p), register(q), y, m)
                        case let (.register(p), .constant(c)):
                            Self.combine(op, register(p), c, y, m)
                        case let (.constant(c), .register(q)):
                            Self.combine(op, c, register(q), y, m)
                        case let (.constant(c), .constant(d)):
                            let v = Self.value(op, c, d)
                            y.update(repeating: v, count: m)
                        }
                    case let .activation(activation, r, into):
                        ActivationFunction.applySerially(activation, input: register(r), output: register(into), count: m)
                    }
                }
                if result != 0 { base.update(from: register(result), count: m) }
                lo += m
            }
        }
    }

    /// `op(a, b)` on one pair.
    @inline(__always)
    static func value(_ op: Arithmetic, _ a: Float, _ b: Float) -> Float {
        switch op {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .minimum: return a < b || a.isNaN ? a : b
        case .maximum: return a > b || a.isNaN ? a : b
        case .mergeMinimum: return min(a, b)
        case .mergeMaximum: return max(a, b)
        }
    }

    /// `y[j] = op(a[j], b[j])`.
    private static func combine(_ op: Arithmetic, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .add: for j in 0..<n { y[j] = a[j] + b[j] }
        case .subtract: for j in 0..<n { y[j] = a[j] - b[j] }
        case .multiply: for j in 0..<n { y[j] = a[j] * b[j] }
        case .divide: for j in 0..<n { y[j] = a[j] / b[j] }
        default: for j in 0..<n { y[j] = value(op, a[j], b[j]) }
        }
    }

    /// `y[j] = op(a[j], c)`.
    private static func combine(_ op: Arithmetic, _ a: UnsafeMutablePointer<Float>, _ c: Float,
                                _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .add: for j in 0..<n { y[j] = a[j] + c }
        case .subtract: for j in 0..<n { y[j] = a[j] - c }
        case .multiply: for j in 0..<n { y[j] = a[j] * c }
        case .divide: for j in 0..<n { y[j] = a[j] / c }
        default: for j in 0..<n { y[j] = value(op, a[j], c) }
        }
    }

    /// `y[j] = op(c, b[j])`.
    private static func combine(_ op: Arithmetic, _ c: Float, _ b: UnsafeMutablePointer<Float>,
                                _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .add: for j in 0..<n { y[j] = c + b[j] }
        case .subtract: for j in 0..<n { y[j] = c - b[j] }
        case .multiply: for j in 0..<n { y[j] = c * b[j] }
        case .divide: for j in 0..<n { y[j] = c / b[j] }
        default: for j in 0..<n { y[j] = value(op, c, b[j]) }
        }
    }
}
