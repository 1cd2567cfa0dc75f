/// A per-column step applied to a linear op's product (`rows x columns`, columns = channels) after
/// the GEMM: the layer's bias and activation, and, when the executor fuses a following
/// inference-mode BatchNorm (last axis), a same-shape residual Add and activations into the same
/// pass over memory, their maps. The arithmetic is the same as running the steps one by one, in
/// the same order.
enum PostOp {
    /// `x + bias[c]`.
    case bias([Float])
    /// `x * scale[c] + shift[c]` (a BatchNorm's ``BatchNormCoefficients`` rounded to float).
    case affine(scale: [Float], shift: [Float])
    /// An element-wise activation (softmax only as the last step).
    case activation(Activation)
    /// `x + other[i]`: an Add of another value of exactly the output's shape (a residual
    /// connection), element `i` of the output taking element `i` of `other`. `output` is the
    /// output's first element, set by the kernel with ``Epilogue/bind(_:to:)`` once it has
    /// allocated its output (`nil` before): the epilogues find the residual of any element they
    /// write by its distance from there.
    case residual(other: EngineValue, output: UnsafeMutablePointer<Float>?)

    /// The residual's element matching output element `target`; traps when the op was not bound.
    @inline(__always)
    static func residualElement(_ other: EngineValue, _ output: UnsafeMutablePointer<Float>?,
                                for target: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard let output else { preconditionFailure("a residual PostOp was applied before Epilogue.bind(_:to:)") }
        return UnsafePointer(other.pointer + output.distance(to: target))
    }
}
