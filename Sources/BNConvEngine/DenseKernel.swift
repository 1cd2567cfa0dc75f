import BNConvCore
import BNConvModel
import BNConvInterop

/// A fully connected layer on the last axis: one GEMM against the `io` kernel (`oi` is transposed
/// once at init), then bias and activation.
struct DenseKernel: FusableKernel {
    /// The `(in, units)` kernel.
    let kernel: KernelWeights
    /// Input features.
    let inputs: Int
    /// Output features.
    let units: Int
    /// Bias per unit.
    let bias: [Float]?
    /// The layer's activation.
    let activation: Activation

    /// The tail runs on the output itself: a bound residual Add may be fused.
    var acceptsResidual: Bool { true }

    /// Prepares a dense node (only plans its kernel when `streamsWeights`).
    init(node: Node, attributes: Dense, streamsWeights: Bool = false) throws {
        let weights = try KernelWeights(node, .kernel, as: .io, streamed: streamsWeights && KernelWeights.streams(node, .kernel))
        let shape = weights.shape
        guard shape.count == 2 else {
            throw EngineError.weightShape(node: node.name, role: .kernel, expected: [-1, attributes.units], got: shape)
        }
        kernel = weights
        inputs = shape[0]
        units = shape[1]
        bias = attributes.useBias ? try PreparedWeights.vector(node, .bias, count: units) : nil
        activation = attributes.activation
    }

    func run(_ values: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let x = values[0]
        guard let last = x.shape.last, last == inputs, x.shape.count >= 2 else {
            throw EngineError.shapeMismatch("dense input features", expected: [-1, inputs], got: x.shape)
        }
        let rows = x.count / inputs
        let out = try context.allocate(Array(x.shape.dropLast()) + [units])
        try kernel.withFloats(context.pool) { w in
            ParallelGEMM.multiply(m: rows, n: units, k: inputs, a: x.pointer, lda: inputs, b: w.baseAddress!, ldb: units,
                       c: out.pointer, ldc: units, parallel: context.parallel)
        }
        Epilogue.apply(try Epilogue.bind(Epilogue.layerOps(bias: bias, activation: activation) + tail, to: out),
                       output: out.pointer, rows: rows, columns: units, parallel: context.parallel)
        return out
    }
}
