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
    /// A BatchNorm no model output depends on as the file is read (`node`: a branch of a
    /// conditional not taken, such as a `tf.cond`'s) normalizes by the same stored moving statistics
    /// as the BatchNorm that runs (`running`): recalibrated for the running one's input, they would
    /// not fit the other's when its branch is taken, and which branch runs is decided at run time.
    case statisticsSharedWithABranchNotRun(node: String, running: String)

    /// One line for the user.
    public var description: String {
        switch self {
        case .noData: return "no calibration samples"
        case .badData(let why): return why
        case .inputMismatch(let why): return why
        case .noBatchNorm: return "the model has no BatchNormalization layer to recalibrate"
        case .sharedStatistics(let node):
            return "BatchNorm '\(node)' shares its moving statistics with another node (a layer called more than once); bnconv does not recalibrate shared statistics"
        case .statisticsSharedWithABranchNotRun(let node, let running):
            return "BatchNorm '\(node)' normalizes by the same moving statistics as '\(running)', but no model output depends on it as the file is read "
                + "(it is in a branch of a conditional, such as a tf.cond, that is not taken): recalibrated for the input of '\(running)', "
                + "they would not fit the input of '\(node)' when its branch runs, and which branch runs is decided when the model runs; "
                + "bnconv does not recalibrate statistics read by two branches"
        }
    }
}
