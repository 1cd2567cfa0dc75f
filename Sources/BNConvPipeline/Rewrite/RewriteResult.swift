import BNConvModel
import BNConvPasses
import BNConvVerify
import BNConvCalibration

/// What ``RewritePipeline/run(_:progress:)`` did: the decisions, the verification, what was written.
public struct RewriteResult: Sendable {
    /// What a recalibration measured.
    public struct Recalibration: Sendable {
        /// Per BatchNorm, how far its statistics moved.
        public var drift: [BatchNormDrift]
        /// Passes over the data.
        public var passes: Int
        /// Samples run in all.
        public var samplesRun: Int
        /// Samples in the calibration set.
        public var sampleCount: Int
        /// The moving-average rule used.
        public var convention: MovingAverageConvention
        /// Wall time of the recalibration alone.
        public var seconds: Double
    }

    /// What a conversion made.
    public struct Conversion: Sendable {
        /// How each input and output of the written model relates to the source's.
        public var boundary: LayoutBoundary
        /// Notes of the layout pass (and the exporter).
        public var notes: [String]
        /// The ONNX opset, for an ONNX export.
        public var opset: Int?
    }

    /// The request carried out.
    public var request: RewriteRequest
    /// The input's format.
    public var format: CheckpointFormat
    /// The input model's input and output names.
    public var inputNames: [String], outputNames: [String]
    /// One decision per BatchNorm (empty when the request does not fold).
    public var decisions: [FoldDecision]
    /// BatchNorms switched to inference by ``RewriteRequest/assumeInference``.
    public var assumedInference: [String]
    /// What ``BatchNormDiagnosis`` found in the model the fold started from (after assuming
    /// inference and recalibrating); empty when the request does not fold. Warnings never stop a fold.
    public var warnings: [BatchNormWarning] = []
    /// The recalibration, when one was asked for.
    public var recalibration: Recalibration?
    /// The conversion, when one was asked for.
    public var conversion: Conversion?
    /// The verification, `nil` when not verified.
    public var verification: VerificationReport?
    /// Whether the output was written (verification passed or was skipped, or `force`).
    public var written: Bool
    /// Op counts of the reference and of the written model.
    public var opsBefore: [String: Int], opsAfter: [String: Int]
    /// Sizes of the input and (when written) the output file, read after writing.
    public var inputBytes: Int, outputBytes: Int?
    /// Wall time from the start to the end of the passes (reading included), and in all.
    public var passSeconds: Double, seconds: Double

    /// Whether verification passed (true when skipped).
    public var passed: Bool { verification?.passed ?? true }
    /// How many BatchNorms were folded.
    public var foldedCount: Int { decisions.filter(\.folds).count }
    /// Whether a fold found nothing to fold (no BatchNorm, or every one kept) and so verified and
    /// wrote nothing.
    public var nothingToFold: Bool { request.fold && request.conversion == nil && !written && verification == nil }

    /// The `--report` contents of this rewrite.
    public var runReport: RunReport {
        var notes = assumedInference.isEmpty ? [] : ["assumed inference for \(assumedInference.joined(separator: ", "))"]
        if let conversion { notes = ["target: \(request.conversion?.targetName ?? "")"] + conversion.notes }
        return RunReport(command: request.verb, input: request.input, output: written ? request.output : nil,
                         format: format.displayName, decisions: decisions, verification: verification,
                         opsBefore: opsBefore, opsAfter: opsAfter, inputBytes: inputBytes, outputBytes: outputBytes, notes: notes)
    }
}
