/// The result of comparing a candidate model with a reference on the same inputs.
public struct VerificationReport: Codable, Sendable {
    /// Error of one model output, over every sample.
    public struct Output: Codable, Sendable {
        /// The reference's output value name.
        public var name: String
        /// The output's shape for one run.
        public var shape: [Int]
        /// The errors.
        public var error: ErrorStatistics
    }

    /// Error of one intermediate value both models compute, in the candidate's topological order.
    public struct Layer: Codable, Sendable {
        /// The candidate node that writes the value.
        public var node: String
        /// The value compared (the candidate's name).
        public var value: String
        /// The errors.
        public var error: ErrorStatistics
    }

    /// Where the candidate first departs from the reference beyond the tolerance.
    public struct Divergence: Codable, Sendable {
        /// The candidate node whose output diverges first.
        public var node: String
        /// The value compared.
        public var value: String
        /// Its errors.
        public var error: ErrorStatistics
    }

    /// How many input batches were run.
    public var runs: Int
    /// The range-relative tolerance (`max|a - b| <= tolerance * max|a|` passes).
    public var tolerance: Double
    /// One entry per model output.
    public var outputs: [Output]
    /// One entry per shared intermediate value, in the candidate's topological order.
    public var layers: [Layer]
    /// The first intermediate value beyond tolerance, when the outputs fail.
    public var firstDivergence: Divergence?

    /// The worst output error.
    public var worst: ErrorStatistics? {
        outputs.map(\.error).reduce(nil) { worst, next in worst.map { $0.merged(with: next) } ?? next }
    }

    /// Whether every output is within tolerance.
    public var passed: Bool { outputs.allSatisfy { $0.error.maxRel <= tolerance } }
}
