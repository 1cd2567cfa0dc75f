import BNConv

/// The `--json` object of `convert`: a stable schema documented in the README.
struct ConvertSummary: Codable, JSONSummary {
    var command = "convert"
    var input: String
    var output: String?
    var format: String
    var target: String
    var opset: Int?
    var inputPermutations: [[Int]?]
    var outputPermutations: [[Int]?]
    var notes: [String]
    var batchNorms: [FoldDecision]
    var folded: Int
    var verification: VerificationReport?
    var outputBytes: Int?
    var seconds: Double

    /// The summary of a `convert` rewrite.
    init(_ result: RewriteResult) {
        input = result.request.input
        output = result.written ? result.request.output : nil
        format = result.format.rawValue
        target = result.request.conversion?.targetName ?? ""
        opset = result.conversion?.opset
        inputPermutations = result.conversion?.boundary.inputs ?? []
        outputPermutations = result.conversion?.boundary.outputs ?? []
        notes = result.conversion?.notes ?? []
        batchNorms = result.decisions
        folded = result.foldedCount
        verification = result.verification
        outputBytes = result.outputBytes
        seconds = result.seconds
    }
}
