import BNConvCore
import BNConvModel
import BNConvInterop

/// Which batch variance a training step feeds into the moving variance.
///
/// Normalization always uses the biased variance; implementations differ only in what they store
/// (docs/math.md, BatchNorm): tf_keras on 4-D input (TensorFlow's fused kernel) stores the unbiased
/// one, tf_keras on 2-D/3-D input and Keras 3 the biased one, PyTorch the unbiased one.
public enum VarianceCorrection: Equatable, Sendable {
    /// `E[(x - mean)^2]`, divided by `N`.
    case biased
    /// Bessel-corrected: the biased variance times `N / (N - 1)`.
    case unbiased

    /// `variance` (biased, over `count` elements) corrected as this option says.
    public func apply(_ variance: Double, count: Int) -> Double {
        switch self {
        case .biased: return variance
        case .unbiased: return count > 1 ? variance * Double(count) / Double(count - 1) : variance
        }
    }
}
