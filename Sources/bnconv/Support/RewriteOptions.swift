import ArgumentParser
import BNConv

/// The options of the commands that rewrite a checkpoint and verify the result before writing it
/// (`fold`, `convert`): the input and its architecture, the verification flags, `--no-verify`,
/// `--force`, `--report` and the output flags.
struct RewriteOptions: ParsableArguments {
    @Argument(help: "The checkpoint: Keras .h5 / .keras / .weights.h5, TensorFlow .pb, ONNX .onnx.")
    var model: String

    @Option(help: "The architecture for a weights-only file: model.to_json() output or a .keras file.")
    var config: String?

    @Flag(help: "Skip verification.")
    var noVerify = false

    @Flag(help: "Write even when verification fails.")
    var force = false

    @OptionGroup var verification: VerificationOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var out: OutputOptions

    /// Runs `candidate` against `reference` on the engine (with a progress bar), unless `--no-verify`.
    /// `boundary` feeds the candidate transposed inputs and transposes its outputs back;
    /// `toleranceModel` chooses the default tolerance (the candidate's own weights by default); a
    /// model the engine cannot run is an error suggesting `--no-verify` for `verb`.
    func verify(reference: Model, candidate: Model, foldMap: [String: String]? = nil,
                boundary: LayoutBoundary? = nil, compareLayers: Bool = true, toleranceModel: Model? = nil,
                stage: String = "verify", verb: String) throws -> VerificationReport? {
        if noVerify { return nil }
        var options = try verification.verifierOptions(inputCount: reference.inputs.count, candidate: toleranceModel ?? candidate)
        options.compareLayers = compareLayers
        if let boundary {
            options.inputPermutations = boundary.inputs
            options.outputPermutations = boundary.outputs
        }
        let bar = ProgressBar(stage: stage, total: options.randomRuns + options.inputs.count, unit: "runs", quiet: out.quiet || out.json)
        defer { bar.finish() }
        do {
            return try Verifier(options: options).compare(reference: reference, candidate: candidate, foldMap: foldMap,
                                                          progress: { done, _ in bar.update(done) })
        } catch let error as EngineError {
            throw HintedError(error, file: model, hint: "the engine cannot verify this model; rerun with --no-verify to \(verb) without verification")
        }
    }

    /// The verification gate for `report` (nil: not verified).
    func gate(_ report: VerificationReport?) -> VerifiedWrite { VerifiedWrite(report: report, force: force) }
}
