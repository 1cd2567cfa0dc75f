import BNConvCore
import BNConvModel
import BNConvInterop

/// A kernel whose output can take extra ``PostOp``s in its own pass over memory: linear kernels
/// (convolution, dense; channels last) take a following BatchNorm and activations, merges take
/// activations; kernels that bind their tail to their output (``Epilogue/bind(_:to:)``) also take
/// a residual Add.
protocol FusableKernel: EngineKernel {
    /// Computes the node's output, then applies the layer's own tail followed by `tail`.
    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue
    /// Whether a per-channel (last axis) affine map may be fused.
    var acceptsChannelAffine: Bool { get }
    /// Whether a ``PostOp/residual(other:output:)`` may be fused: the kernel binds its tail to its
    /// output and applies it only to blocks of that output.
    var acceptsResidual: Bool { get }
}

extension FusableKernel {
    /// Linear kernels write channels last: a last-axis BatchNorm may follow.
    var acceptsChannelAffine: Bool { true }

    /// Only kernels that say so bind a residual.
    var acceptsResidual: Bool { false }

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        try run(inputs, context, tail: [])
    }
}
