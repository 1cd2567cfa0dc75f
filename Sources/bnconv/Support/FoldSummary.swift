import BNConv

/// The `--json` object of `fold`: a stable schema documented in the README.
struct FoldSummary: Codable, JSONSummary {
    var command: String
    var input: String
    var output: String?
    var format: String
    var batchNorms: [FoldDecision]
    var warnings: [BatchNormWarning]
    var folded: Int
    var verification: VerificationReport?
    var inputBytes: Int
    var outputBytes: Int?
    var seconds: Double

    /// The summary of a `fold` rewrite.
    init(_ result: RewriteResult) {
        command = "fold"
        input = result.request.input
        output = result.written ? result.request.output : nil
        format = result.format.rawValue
        batchNorms = result.decisions
        warnings = result.warnings
        folded = result.foldedCount
        verification = result.verification
        inputBytes = result.inputBytes
        outputBytes = result.outputBytes
        seconds = result.seconds
    }
}
