/// A kernel whose output can take extra ``PostOp``s in its own pass over memory: linear kernels
/// (convolution, dense; channels last) take a following BatchNorm and activations, merges take
/// activations.
protocol FusableKernel: EngineKernel {
    /// Computes the node's output, then applies the layer's own tail followed by `tail`.
    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue
    /// Whether a per-channel (last axis) affine map may be fused.
    var acceptsChannelAffine: Bool { get }
}

extension FusableKernel {
    /// Linear kernels write channels last: a last-axis BatchNorm may follow.
    var acceptsChannelAffine: Bool { true }

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        try run(inputs, context, tail: [])
    }
}
