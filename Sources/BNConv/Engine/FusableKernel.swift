/// A linear kernel (convolution, dense) whose output, channels last, can take extra ``PostOp``s in
/// its epilogue: the executor hands it a following BatchNorm and activation to apply in one pass.
protocol FusableKernel: EngineKernel {
    /// Computes the node's output, then applies the layer's own tail followed by `tail`.
    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue
}

extension FusableKernel {
    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        try run(inputs, context, tail: [])
    }
}
