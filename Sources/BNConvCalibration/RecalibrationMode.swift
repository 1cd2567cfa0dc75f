import BNConvCore
import BNConvModel
import BNConvEngine

/// How ``Recalibrator`` re-estimates the moving statistics.
public enum RecalibrationMode: String, Equatable, Sendable, Codable, CaseIterable {
    /// The exact population mean and biased variance of each BN's input over every calibration
    /// sample, with every earlier BN already recalibrated (the inference-mode fixed point),
    /// accumulated in Double; independent of batch size and order.
    case cumulative
    /// The layer's own moving-average update, batch after batch, in a training-mode forward: what
    /// the framework itself stores after `model(batch, training=True)` on the same batches.
    case momentum
}
