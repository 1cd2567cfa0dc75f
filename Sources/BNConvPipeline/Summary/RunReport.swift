import Foundation
import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses
import BNConvEngine
import BNConvVerify
import BNConvCalibration

/// What a `fold`, `convert` or `verify` run did, gathered for a human-readable report
/// (``RunReportRenderer``): the per-BN decisions, the verification, op counts and file sizes.
public struct RunReport: Sendable {
    /// The command ("fold", "convert", "verify").
    public var command: String
    /// The input (reference) file.
    public var input: String
    /// The output (candidate) file, when one was written or compared.
    public var output: String?
    /// The input's format, in words.
    public var format: String
    /// One decision per BatchNorm (empty for `verify`).
    public var decisions: [FoldDecision]
    /// The verification, when one ran.
    public var verification: VerificationReport?
    /// Op name -> count in the input model.
    public var opsBefore: [String: Int]
    /// Op name -> count in the output model.
    public var opsAfter: [String: Int]
    /// Input file size in bytes.
    public var inputBytes: Int
    /// Output file size in bytes, when written.
    public var outputBytes: Int?
    /// Free-form notes (inserted transposes, assumptions).
    public var notes: [String]

    /// Creates a report; `opsBefore`/`opsAfter` come from ``opCounts(_:)`` of the two models.
    public init(command: String, input: String, output: String?, format: String, decisions: [FoldDecision],
                verification: VerificationReport?, opsBefore: [String: Int], opsAfter: [String: Int],
                inputBytes: Int, outputBytes: Int?, notes: [String] = []) {
        self.command = command
        self.input = input
        self.output = output
        self.format = format
        self.decisions = decisions
        self.verification = verification
        self.opsBefore = opsBefore
        self.opsAfter = opsAfter
        self.inputBytes = inputBytes
        self.outputBytes = outputBytes
        self.notes = notes
    }

    /// Op name -> number of nodes (model inputs not counted).
    public static func opCounts(_ model: Model) -> [String: Int] {
        var counts: [String: Int] = [:]
        for node in model.nodes {
            if case .input = node.op { continue }
            counts[node.opName, default: 0] += 1
        }
        return counts
    }
}
