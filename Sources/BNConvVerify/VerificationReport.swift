import BNConvCore
import BNConvModel
import BNConvEngine

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
        /// The original's own float32 noise at this output: how far (max abs) the reference's
        /// output moves when its inputs move by a few float32 roundings. Measured only for an
        /// output whose range-relative error exceeds the tolerance (``Verifier/noiseMultiple``).
        public var noiseFloor: Double? = nil

        /// Whether the output agrees: within `tolerance` of its range, or, when the range says
        /// no, within ``Verifier/noiseMultiple`` times the original's own float32 noise (an output
        /// that a saturated sigmoid squeezes to 1e-5 has a tiny range, and the rounding of every
        /// layer before it, which a fold changes, dominates its relative error).
        /// The noise allowance scales with the tolerance: ``Verifier/noiseMultiple`` times the noise
        /// at the default 1e-5, none at a tolerance of 0 (exact agreement asked for).
        public func agrees(tolerance: Double) -> Bool {
            if error.maxRel <= tolerance { return true }
            guard let noiseFloor, error.maxAbs.isFinite else { return false }
            return error.maxAbs <= Verifier.noiseMultiple * (tolerance / DefaultTolerance.baseline) * noiseFloor
        }
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

    /// Every fold checked on its own (``FoldCheck``), when the candidate came from a fold.
    public var foldChecks: [FoldCheck] = []
    /// Why the whole models were not compared (the engine cannot run them), when they were not:
    /// the verdict then rests on ``foldChecks`` alone.
    public var wholeModelNotRun: String?

    /// Whether every output is within tolerance and every fold checked on its own agrees (a check
    /// measured inside the whole-model run informs; the outputs decide).
    public var passed: Bool {
        outputs.allSatisfy { $0.agrees(tolerance: tolerance) }
            && foldChecks.allSatisfy { $0.inModel || $0.agrees(tolerance: tolerance) }
    }

    private enum CodingKeys: String, CodingKey {
        case runs, tolerance, outputs, layers, firstDivergence, passed, worst, foldChecks, wholeModelNotRun
    }

    /// Decodes a report (the derived `passed` and `worst` keys are ignored).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runs = try c.decode(Int.self, forKey: .runs)
        tolerance = try c.decode(Double.self, forKey: .tolerance)
        outputs = try c.decode([Output].self, forKey: .outputs)
        layers = try c.decode([Layer].self, forKey: .layers)
        firstDivergence = try c.decodeIfPresent(Divergence.self, forKey: .firstDivergence)
        foldChecks = try c.decodeIfPresent([FoldCheck].self, forKey: .foldChecks) ?? []
        wholeModelNotRun = try c.decodeIfPresent(String.self, forKey: .wholeModelNotRun)
    }

    /// Creates a report.
    public init(runs: Int, tolerance: Double, outputs: [Output], layers: [Layer], firstDivergence: Divergence?) {
        self.runs = runs
        self.tolerance = tolerance
        self.outputs = outputs
        self.layers = layers
        self.firstDivergence = firstDivergence
    }

    /// Encodes the report with its derived `passed` and `worst` for JSON readers.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runs, forKey: .runs)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(layers, forKey: .layers)
        try c.encodeIfPresent(firstDivergence, forKey: .firstDivergence)
        if !foldChecks.isEmpty { try c.encode(foldChecks, forKey: .foldChecks) }
        try c.encodeIfPresent(wholeModelNotRun, forKey: .wholeModelNotRun)
        try c.encode(passed, forKey: .passed)
        try c.encodeIfPresent(worst, forKey: .worst)
    }
}
