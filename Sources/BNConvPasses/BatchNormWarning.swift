/// Something about one BatchNorm that deserves the user's attention though nothing refuses it:
/// statistics that were never gathered or are damaged, a fold that would overflow a half-precision
/// weight, a BN that normalizes with batch statistics in an inference graph. Found by
/// ``BatchNormDiagnosis``; `bnconv inspect` lists them under each BN and `bnconv fold` prints one
/// line each. A warning never changes what is folded or written.
public struct BatchNormWarning: Codable, Equatable, Sendable {
    /// What kind of problem, as a stable identifier (the JSON `code`).
    public enum Code: String, Codable, CaseIterable, Sendable {
        /// Moving mean exactly 0 and moving variance exactly 1 in every channel (their initial
        /// values) while gamma or beta moved away from 1 or 0: the moving-average updates never ran.
        case staleMovingStatistics = "stale-moving-statistics"
        /// Moving variance exactly 0 in some channel (with epsilon the output stays finite).
        case zeroVariance = "zero-variance"
        /// Moving variance below 0 in some channel (NaN where it is at or below -epsilon).
        case negativeVariance = "negative-variance"
        /// NaN or infinity in gamma, beta, the moving mean or the moving variance.
        case nonFiniteStatistics = "non-finite-statistics"
        /// Folding into the layer the planner picks would write a value its float16 (or
        /// bfloat16) weight cannot hold: it would become infinity.
        case float16Overflow = "float16-overflow"
        /// The BN normalizes with each batch's own statistics (TensorFlow `is_training`, ONNX
        /// `training_mode`) in a graph meant for inference.
        case batchStatistics = "batch-statistics"
    }

    /// The BatchNorm node's name.
    public var batchNorm: String
    /// What kind of problem.
    public var code: Code
    /// One sentence or two for people: the BN, the numbers (how many channels, the worst value),
    /// what it means and, where there is one, what to do.
    public var message: String

    /// Creates a warning.
    public init(batchNorm: String, code: Code, message: String) {
        self.batchNorm = batchNorm
        self.code = code
        self.message = message
    }
}
