import BNConvCore
import BNConvModel
import BNConvInterop

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
    /// Element-wise nodes fused as one program (``ElementRegion``): applied to each element alone,
    /// whatever its position.
    case program(ElementProgram)

    /// The residual's element matching output element `target`, where `count` values are read
    /// from. Traps when the op was not bound, or when the values lie outside the output (a kernel
    /// applying its tail to a block held elsewhere must cut it first,
    /// ``ChannelsFirstEpilogue/splitAtResidual(_:)``): never a read outside the residual.
    @inline(__always)
    static func residualElement(_ other: EngineValue, _ output: UnsafeMutablePointer<Float>?,
                                for target: UnsafeMutablePointer<Float>, count: Int) -> UnsafePointer<Float> {
        guard let output else { preconditionFailure("a residual PostOp was applied before Epilogue.bind(_:to:)") }
        return residualElement(other.pointer, total: other.count, output, for: target, count: count)
    }

    /// ``residualElement(_:_:for:count:)`` on raw pointers: the residual's first element and its
    /// element count, and the output's first element.
    @inline(__always)
    static func residualElement(_ other: UnsafeMutablePointer<Float>, total: Int, _ output: UnsafeMutablePointer<Float>,
                                for target: UnsafeMutablePointer<Float>, count: Int) -> UnsafePointer<Float> {
        let offset = output.distance(to: target)
        precondition(offset >= 0 && offset + count <= total,
                     "a residual PostOp was applied to values outside the output it was bound to")
        return UnsafePointer(other + offset)
    }
}
