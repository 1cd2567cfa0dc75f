import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras SeparableConv: a depthwise convolution (`hwcm`, no bias) then a pointwise 1x1 GEMM against
/// the `hwio` pointwise kernel `(1.., C*M, filters)`, with the bias and the layer's activation.
struct SeparableConvolutionKernel: FusableKernel {
    /// The depthwise step.
    let depthwise: DepthwiseKernel
    /// The pointwise kernel as `(C*M, filters)`.
    let pointwise: KernelWeights
    /// Output channels.
    let filters: Int
    /// Bias per output channel.
    let bias: [Float]?
    /// The layer's activation.
    let activation: Activation

    /// Prepares a separable conv node (only plans its kernels when `streamsWeights`).
    init(node: Node, attributes: Convolution, streamsWeights: Bool = false) throws {
        depthwise = try DepthwiseKernel(node: node, attributes: attributes, role: .depthwiseKernel, separable: true, streamsWeights: streamsWeights)
        let weights = try KernelWeights(node, .pointwiseKernel, as: .hwio, streamed: streamsWeights && KernelWeights.streams(node, .pointwiseKernel))
        let shape = weights.shape
        let cm = depthwise.channels * depthwise.multiplier
        guard shape.count >= 2, shape[shape.count - 2] == cm, shape.dropLast(2).allSatisfy({ $0 == 1 }) else {
            throw EngineError.weightShape(node: node.name, role: .pointwiseKernel, expected: [1, 1, cm, attributes.filters], got: shape)
        }
        pointwise = weights
        filters = shape[shape.count - 1]
        bias = attributes.useBias ? try PreparedWeights.vector(node, .bias, count: filters) : nil
        activation = attributes.activation
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let mid = try depthwise.run(inputs, context)
        defer { context.release(mid) }
        let cm = mid.shape[mid.shape.count - 1]
        let rows = mid.count / max(cm, 1)
        let out = try context.allocate(Array(mid.shape.dropLast()) + [filters])
        try pointwise.withFloats(context.pool) { w in
            ParallelGEMM.multiply(m: rows, n: filters, k: cm, a: mid.pointer, lda: cm, b: w.baseAddress!, ldb: filters,
                       c: out.pointer, ldc: filters, parallel: context.parallel)
        }
        Epilogue.apply(Epilogue.layerOps(bias: bias, activation: activation) + tail, output: out.pointer, rows: rows, columns: filters, parallel: context.parallel)
        return out
    }
}
