import BNConvCalibration

/// How a rewrite re-estimates BatchNorm moving statistics before anything else runs
/// (docs/recalibrate.md).
public struct RecalibrationSettings: Sendable, Equatable {
    /// `.npy` sample arrays, (N, ...) each: joined along N for a one-input model, one per input
    /// (in order) otherwise.
    public var dataFiles: [String]
    /// Cumulative (exact population statistics) or momentum (the layer's own update per batch).
    public var mode: RecalibrationMode
    /// Samples per engine run.
    public var batchSize: Int
    /// The moving-average rule of momentum mode; `nil` takes the file's own framework's.
    public var convention: MovingAverageConvention?

    /// Creates settings.
    public init(dataFiles: [String], mode: RecalibrationMode = .cumulative, batchSize: Int = 32,
                convention: MovingAverageConvention? = nil) {
        self.dataFiles = dataFiles
        self.mode = mode
        self.batchSize = batchSize
        self.convention = convention
    }
}
