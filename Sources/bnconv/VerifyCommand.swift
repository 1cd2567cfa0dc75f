import ArgumentParser
import BNConv
import Foundation

/// `bnconv verify A B`: runs two checkpoints on the same inputs and compares every output, and
/// names the first layer where they diverge.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run two checkpoints on the same inputs and compare their outputs layer by layer.",
        discussion: """
        Outputs are compared by max abs error, max error relative to the reference's range, and cosine. \
        When they differ beyond --tolerance, the first layer (in topological order) whose output differs \
        is named, with exit status 3. Layers that a fold removed are matched to the layer they were folded into.

        Example:
          bnconv verify model.h5 model.folded.h5
          bnconv verify model.h5 model.folded.h5 --input x.npy --tolerance 1e-6 --json
        """
    )

    @Argument(help: "The reference checkpoint.")
    var reference: String

    @Argument(help: "The checkpoint to check against it.")
    var candidate: String

    @Option(help: "The architecture for weights-only files (the reference's; the candidate's too unless it has its own).")
    var config: String?

    @Option(help: "The candidate's architecture, when it differs (a folded weights file: the x.json written beside it is found without this).")
    var candidateConfig: String?

    @OptionGroup var verification: VerificationOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var inputFiles: InputFileOptions
    @OptionGroup var out: OutputOptions

    func run() throws {
        CrashGuard.install(reading: [reference, candidate] + [config, candidateConfig].compactMap { $0 })
        try reportingErrors {
            let result = try CheckpointComparison.compare(reference: reference, candidate: candidate, config: config, candidateConfig: candidateConfig,
                                                          settings: verification.settings, readOptions: inputFiles.readOptions,
                                                          deferringWeights: CommandReadOptions.deferredMinimumBytes,
                                                          progress: ProgressReporter(quiet: out.quiet || out.json).handler)
            let report = result.report
            try self.report.write(result.runReport)
            if out.json {
                print(try VerifySummary(command: "verify", reference: reference, candidate: candidate, passed: report.passed, verification: report).jsonText())
            } else if out.printsText {
                print("\(reference) vs \(candidate)")
                ReportText.verification(report, verbose: out.verbose).forEach { print($0) }
            }
            if !report.passed { throw ExitStatus.verificationFailed }
        }
    }
}

/// The `--json` object of `verify`.
struct VerifySummary: Codable, JSONSummary {
    var command: String
    var reference: String
    var candidate: String
    var passed: Bool
    var verification: VerificationReport
}
