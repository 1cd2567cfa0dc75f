import BNConv

/// The `--json` object of `recalibrate`: a stable schema documented in docs/recalibrate.md.
struct RecalibrateSummary: Codable, JSONSummary {
    var command: String
    var input: String
    var output: String?
    var format: String
    var mode: String
    var convention: String
    var batchSize: Int
    var samples: Int
    var passes: Int
    var samplesRun: Int
    var batchNorms: [BatchNormDrift]
    var samplesPerSecond: Double
    var calibrationSeconds: Double
    var foldDecisions: [FoldDecision]?
    var verification: VerificationReport?
    var seconds: Double

    /// The summary of a `recalibrate` rewrite and its recalibration.
    init(_ result: RewriteResult, _ recalibration: RewriteResult.Recalibration) {
        let settings = result.request.recalibration
        command = "recalibrate"
        input = result.request.input
        output = result.written ? result.request.output : nil
        format = result.format.rawValue
        mode = settings?.mode.rawValue ?? ""
        convention = recalibration.convention.rawValue
        batchSize = settings?.batchSize ?? 0
        samples = recalibration.sampleCount
        passes = recalibration.passes
        samplesRun = recalibration.samplesRun
        batchNorms = recalibration.drift
        samplesPerSecond = recalibration.seconds > 0 ? Double(recalibration.sampleCount) / recalibration.seconds : 0
        calibrationSeconds = recalibration.seconds
        foldDecisions = result.request.fold ? result.decisions : nil
        verification = result.verification
        seconds = result.seconds
    }
}
