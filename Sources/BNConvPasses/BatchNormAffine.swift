import Foundation
import BNConvCore
import BNConvModel

/// A BatchNorm in inference mode as a per-channel affine map `y = scale * x + shift`, in Double:
/// `scale[c] = gamma[c] / sqrt(var[c] + eps)`, `shift[c] = beta[c] - mean[c] * scale[c]`
/// (docs/math.md, Folding). `center == false` means beta = 0, `scale == false` means gamma = 1.
struct BatchNormAffine {
    /// Per-channel multiplier.
    var scale: [Double]
    /// Per-channel offset.
    var shift: [Double]
    /// The dtype of the BN's statistics (for reports).
    var channels: Int { scale.count }

    /// Why a BN's parameters cannot be turned into an affine map.
    enum Problem: Error, CustomStringConvertible {
        case missing(WeightRole)
        case lengthMismatch(WeightRole, Int, expected: Int)
        case nonFinite(WeightRole, channel: Int)
        case nonPositiveVariance(channel: Int, variance: Double, epsilon: Double)

        var description: String {
            switch self {
            case .missing(let r): return "it has no \(r) weight"
            case let .lengthMismatch(r, n, expected):
                return "its \(r) has \(n) values but the BN has \(expected) channels"
            case let .nonFinite(r, c): return "its \(r) is NaN or infinite at channel \(c)"
            case let .nonPositiveVariance(c, v, e):
                return "moving_variance + epsilon is \(v + e) <= 0 at channel \(c) (variance \(v), epsilon \(e))"
            }
        }
    }

    /// Reads a BN node's weights and attributes; throws a ``Problem`` for missing, mismatched or
    /// non-finite statistics, or a variance + epsilon that is not positive.
    init(node: Node, attributes bn: BatchNorm) throws {
        let p = try BatchNormParameters(node: node, attributes: bn)
        for (role, values) in p.byRole {
            if let c = values.firstIndex(where: { !$0.isFinite }) { throw Problem.nonFinite(role, channel: c) }
        }
        let (gamma, beta, mean, variance, n) = (p.gamma, p.beta, p.mean, p.variance, p.channels)
        var scale = [Double](repeating: 0, count: n)
        var shift = [Double](repeating: 0, count: n)
        for c in 0..<n {
            let denominator = variance[c] + bn.epsilon
            guard denominator > 0 else {
                throw Problem.nonPositiveVariance(channel: c, variance: variance[c], epsilon: bn.epsilon)
            }
            scale[c] = gamma[c] / denominator.squareRoot()
            shift[c] = beta[c] - mean[c] * scale[c]
        }
        self.scale = scale
        self.shift = shift
    }
}
