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

    /// One line for the user.
    public var description: String {
        switch self {
        case .noData: return "no calibration samples"
        case .badData(let why): return why
        case .inputMismatch(let why): return why
        case .noBatchNorm: return "the model has no BatchNormalization layer to recalibrate"
        }
    }
}
