import ArgumentParser
import BNConv

/// The options of the commands that rewrite a checkpoint and verify the result before writing it
/// (`fold`, `convert`): the input's architecture, the verification flags, `--no-verify`, `--force`,
/// `--report` and the output flags. Each command declares its input itself (`fold` takes several).
struct RewriteOptions: ParsableArguments {
    @Option(help: "The architecture for a weights-only file: model.to_json() output or a .keras file.")
    var config: String?

    @Flag(help: "Skip verification.")
    var noVerify = false

    @Flag(help: "Write even when verification fails.")
    var force = false

    @OptionGroup var inputFiles: InputFileOptions
    @OptionGroup var verification: VerificationOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var out: OutputOptions

    /// A request to rewrite `input` into `output`, verified unless `--no-verify`.
    func request(input: String, output: String) -> RewriteRequest {
        RewriteRequest(input: input, config: config, output: output,
                       verification: noVerify ? nil : verification.settings, force: force,
                       readOptions: inputFiles.readOptions)
    }

    /// These options as arguments of a `fold` child process, which folds one file of a batch
    /// (`--config` and `--report` are refused with several inputs, and the child prints JSON).
    var childArguments: [String] {
        (noVerify ? ["--no-verify"] : []) + (force ? ["--force"] : []) + inputFiles.childArguments + verification.childArguments
    }

    /// Runs `request` with a progress display, writes `--report`, and returns the result.
    func run(_ request: RewriteRequest) throws -> RewriteResult {
        let progress = ProgressReporter(quiet: out.quiet || out.json)
        let result = try RewritePipeline.run(request, progress: progress.handler)
        try report.write(result.runReport)
        return result
    }
}
