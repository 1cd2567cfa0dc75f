import BNConvCore
import BNConvModel
import BNConvEngine

/// What ``Recalibrator`` produced: the model with new moving statistics and a drift line per BN.
public struct RecalibrationResult: Sendable {
    /// The model: only the BN moving mean and variance weights changed (marked ``Weight/isModified``).
    public var model: Model
    /// One entry per BatchNorm, in node order.
    public var drift: [BatchNormDrift]
    /// Passes over the calibration set the engine made (1 in momentum mode; one per BN depth level
    /// in cumulative mode).
    public var passes: Int
    /// Samples run through the engine over all passes.
    public var samplesRun: Int
}
