import BNConvCore
import BNConvModel
import BNConvInterop

/// Which statistics a BatchNorm normalizes with and whether it updates its moving ones.
public enum BatchNormMode: Equatable, Sendable {
    /// Normalize with the moving statistics; update nothing.
    case inference
    /// Normalize with the batch's moments (biased variance); update the moving statistics if asked.
    case training(updatesMovingStatistics: Bool)

    /// A Keras layer call (TF2 semantics): a layer with `trainable=False` always runs in inference
    /// mode, whatever `training` says; otherwise `training` selects batch statistics and updates.
    public static func kerasCall(training: Bool, trainable: Bool) -> BatchNormMode {
        guard trainable, training else { return .inference }
        return .training(updatesMovingStatistics: true)
    }

    /// The mode a model's BN node runs in: an op recorded in training mode (a TF FusedBatchNorm with
    /// `is_training`, ONNX `training_mode=1`) normalizes with batch statistics and updates the
    /// moving ones only when `trainable`; any other BN runs in inference mode.
    public init(_ attributes: BatchNorm) {
        self = attributes.training ? .training(updatesMovingStatistics: attributes.trainable) : .inference
    }
}
