import BNConvModel

/// A BatchNorm in inference mode for the float64 reference (``Float64Reference``), as TensorFlow's
/// `tf.nn.batch_normalization` defines it (docs/math.md, BatchNorm), evaluated as written:
/// `(x - mean) / sqrt(variance + epsilon) * gamma + beta` along the BN's axis, gamma 1 without
/// `scale`, beta 0 without `center`. (The engine and the fold both use the affine form
/// `x * s + shift`; the reference does not.) With `magnitudes`, the bound of the magnitudes float32
/// rounds on the way, `(|x| + |mean|) / sqrt(variance + epsilon) * |gamma| + |beta|` for `x >= 0`.
enum Float64BatchNorm {
    /// The BN `node` with attributes `bn` applied to `x` (or, with `magnitudes`, the bound above).
    static func apply(_ node: Node, _ bn: BatchNorm, _ x: Float64Tensor, magnitudes: Bool = false) throws -> Float64Tensor {
        guard !bn.training else { throw Float64Reference.Unsupported("\(node.name) normalizes with batch statistics") }
        guard node.inputs.count == 1 else { throw Float64Reference.Unsupported("\(node.name) reads its statistics at run time") }
        let rank = x.shape.count
        let axis = Op.resolveAxis(bn.axis, rank: rank)
        guard axis >= 0, axis < rank else { throw Float64Reference.Unsupported("\(node.name) normalizes axis \(bn.axis) of a rank-\(rank) value") }
        let channels = x.shape[axis]
        let inner = x.shape[(axis + 1)...].reduce(1, *)
        func vector(_ role: WeightRole, used: Bool, otherwise value: Double) throws -> [Double] {
            guard used else { return Array(repeating: value, count: channels) }
            guard let v = try Float64Kernel.vector(node, role, count: channels) else {
                throw Float64Reference.Unsupported("\(node.name) has no \(role) weight")
            }
            return v
        }
        let mean = try vector(.movingMean, used: true, otherwise: 0)
        let variance = try vector(.movingVariance, used: true, otherwise: 0)
        let gamma = try vector(.gamma, used: bn.scale, otherwise: 1)
        let beta = try vector(.beta, used: bn.center, otherwise: 0)
        var y = x.values
        for k in y.indices {
            let c = (k / inner) % channels
            let deviation = (variance[c] + bn.epsilon).squareRoot()
            y[k] = magnitudes ? (x.values[k] + abs(mean[c])) / deviation * abs(gamma[c]) + abs(beta[c])
                : (x.values[k] - mean[c]) / deviation * gamma[c] + beta[c]
        }
        return Float64Tensor(shape: x.shape, values: y)
    }
}
