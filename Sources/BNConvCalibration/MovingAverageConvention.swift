import BNConvCore
import BNConvModel
import BNConvEngine

/// Which framework's moving-average rule a momentum recalibration reproduces.
public enum MovingAverageConvention: String, Equatable, Sendable, Codable, CaseIterable {
    /// tf_keras (Keras 2) and TensorFlow: the unbiased batch variance on 4-D input (the fused
    /// kernel), the biased one otherwise.
    case tfKeras = "tf-keras"
    /// Keras 3: the biased batch variance on any input.
    case keras3
    /// ONNX `BatchNormalization` in training mode: `running = running * momentum + batch * (1 - momentum)`
    /// with the biased batch variance (onnx/docs/Operators.md, BatchNormalization-15).
    case onnx
    /// PyTorch: `running = (1 - m) * running + m * batch` with the unbiased variance, where the
    /// PyTorch momentum `m` is one minus the model's Keras-sense momentum.
    case pytorch

    /// The update rule for a BN with Keras-sense `momentum` on input of `inputRank` dimensions.
    public func movingAverage(momentum: Double, inputRank: Int) -> BatchNormMovingAverage {
        switch self {
        case .tfKeras: return .tfKeras(momentum: momentum, inputRank: inputRank)
        case .keras3, .onnx: return .keras3(momentum: momentum)
        case .pytorch: return .pytorch(momentum: 1 - momentum)
        }
    }
}
