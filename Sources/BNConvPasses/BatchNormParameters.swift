import BNConvCore
import BNConvModel

/// A BatchNorm node's four per-channel vectors read in Double, as the BN applies them: gamma = 1
/// when `scale` is off, beta = 0 when `center` is off (docs/math.md, BatchNorm). Nothing is
/// checked beyond presence and length: ``BatchNormAffine`` refuses what cannot be folded, and
/// ``BatchNormDiagnosis`` reports what looks wrong.
struct BatchNormParameters {
    /// Per-channel scale (1 when the BN has no gamma).
    var gamma: [Double]
    /// Per-channel offset (0 when the BN has no beta).
    var beta: [Double]
    /// The stored moving (running) mean.
    var mean: [Double]
    /// The stored moving (running) variance.
    var variance: [Double]
    /// Added to the variance before the square root.
    var epsilon: Double

    /// The number of channels.
    var channels: Int { mean.count }

    /// Reads a BN node's weights; throws a ``BatchNormAffine/Problem`` for a missing weight or a
    /// vector whose length differs from the moving mean's, or the error reading a weight.
    init(node: Node, attributes bn: BatchNorm) throws {
        guard let meanW = node.weight(.movingMean) else { throw BatchNormAffine.Problem.missing(.movingMean) }
        guard let varW = node.weight(.movingVariance) else { throw BatchNormAffine.Problem.missing(.movingVariance) }
        let mean = try meanW.tensor.materialized().doubles()
        let variance = try varW.tensor.materialized().doubles()
        let n = mean.count
        func vector(_ role: WeightRole, present: Bool, default value: Double) throws -> [Double] {
            guard present else { return Array(repeating: value, count: n) }
            guard let w = node.weight(role) else { throw BatchNormAffine.Problem.missing(role) }
            let v = try w.tensor.materialized().doubles()
            guard v.count == n else { throw BatchNormAffine.Problem.lengthMismatch(role, v.count, expected: n) }
            return v
        }
        guard variance.count == n else {
            throw BatchNormAffine.Problem.lengthMismatch(.movingVariance, variance.count, expected: n)
        }
        gamma = try vector(.gamma, present: bn.scale, default: 1)
        beta = try vector(.beta, present: bn.center, default: 0)
        self.mean = mean
        self.variance = variance
        epsilon = bn.epsilon
    }

    /// The four vectors with their roles, in the order gamma, beta, moving mean, moving variance.
    var byRole: [(role: WeightRole, values: [Double])] {
        [(.gamma, gamma), (.beta, beta), (.movingMean, mean), (.movingVariance, variance)]
    }
}
