import BNConvCore
import BNConvModel
import BNConvInterop

/// How a training step updates a BatchNorm's moving (running) statistics.
public enum BatchNormMovingAverage: Equatable, Sendable {
    /// Keras: `moving = moving * momentum + batch * (1 - momentum)`, the batch variance corrected
    /// as `variance` says (``VarianceCorrection/unbiased`` for tf_keras on 4-D input,
    /// ``VarianceCorrection/biased`` for Keras 3 and tf_keras on 2-D/3-D input).
    case keras(momentum: Double, variance: VarianceCorrection)
    /// PyTorch: `running = (1 - momentum) * running + momentum * batch` with the unbiased variance.
    case pytorch(momentum: Double)

    /// The tf_keras convention for a BN on input of `rank` dimensions with Keras `momentum`:
    /// the fused kernel (4-D input) stores the unbiased variance, the other paths the biased one.
    public static func tfKeras(momentum: Double, inputRank: Int) -> BatchNormMovingAverage {
        .keras(momentum: momentum, variance: inputRank == 4 ? .unbiased : .biased)
    }

    /// The Keras 3 convention (biased variance on any input).
    public static func keras3(momentum: Double) -> BatchNormMovingAverage {
        .keras(momentum: momentum, variance: .biased)
    }

    /// The updated `(mean, variance)` from the old moving value and the batch moments over `count` elements.
    public func update(moving: (mean: Double, variance: Double), batchMean: Double, batchVariance: Double,
                       count: Int) -> (mean: Double, variance: Double) {
        switch self {
        case let .keras(momentum, correction):
            let v = correction.apply(batchVariance, count: count)
            return (moving.mean * momentum + batchMean * (1 - momentum),
                    moving.variance * momentum + v * (1 - momentum))
        case .pytorch(let momentum):
            let v = VarianceCorrection.unbiased.apply(batchVariance, count: count)
            return ((1 - momentum) * moving.mean + momentum * batchMean,
                    (1 - momentum) * moving.variance + momentum * v)
        }
    }
}
