import BNConvCore
import BNConvModel
import BNConvEngine

/// Why a recalibration cannot run on the data or model it was given.
public enum CalibrationError: Error, Equatable, CustomStringConvertible {
    /// No samples were given.
    case noData
    /// The calibration arrays are unusable (the reason).
    case badData(String)
    /// The arrays do not fit the model's inputs (the reason).
    case inputMismatch(String)
    /// The model has no BatchNorm to recalibrate.
    case noBatchNorm
    /// A BatchNorm's moving statistics are stored once for several nodes (a layer called more than
    /// once), so one value cannot fit each call's input.
    case sharedStatistics(node: String)

    /// One line for the user.
    public var description: String {
        switch self {
        case .noData: return "no calibration samples"
        case .badData(let why): return why
        case .inputMismatch(let why): return why
        case .noBatchNorm: return "the model has no BatchNormalization layer to recalibrate"
        case .sharedStatistics(let node):
            return "BatchNorm '\(node)' shares its moving statistics with another node (a layer called more than once); bnconv does not recalibrate shared statistics"
        }
    }
}
