import ArgumentParser
import BNConv
import Foundation

/// `bnconv fold IN [-o OUT]`: folds every BatchNorm that can be folded safely, verifies the result
/// against the original on the engine, and writes it in the input's format and flavour.
struct FoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fold",
        abstract: "Fold BatchNorm into the neighbouring conv/dense layers, verify, and write a new checkpoint.",
        discussion: """
        Every BatchNormalization is folded into the conv, depthwise, separable, transposed conv or dense \
        layer before it (or, without padding, the one after it) when that is exact; the others are kept \
        and the reason is printed. The original and the folded model are then run on the engine on the \
        same inputs; beyond --tolerance nothing is written and the exit status is 3.

        Example:
          bnconv fold model.h5                 # writes model.folded.h5 beside it
          bnconv fold model.keras -o out.keras --keep stem_bn --input x.npy
          bnconv fold model.weights.h5 --config model.json
        """
    )

    @Argument(help: "The checkpoint: Keras .h5 / .keras / .weights.h5, TensorFlow .pb, ONNX .onnx.")
    var model: String

    @Option(name: .shortAndLong, help: "Where to write (default: NAME.folded.EXT beside the input).")
    var output: String?

    @Option(name: .customLong("keep"), help: ArgumentHelp("Keep this BatchNorm layer (repeatable).", valueName: "layer"))
    var keep: [String] = []

    @Option(help: "The architecture for a weights-only file: model.to_json() output or a .keras file.")
    var config: String?

    @Flag(help: "Fold training-mode BatchNorms (is_training / training_mode) that store their statistics, using those statistics: the model will only run inference.")
    var assumeInference = false

    @Flag(help: "Skip verification.")
    var noVerify = false

    @Flag(help: "Write even when verification fails.")
    var force = false

    @Flag(help: "Replace the input file (written beside it first, then renamed over it).")
    var inPlace = false

    @OptionGroup var verification: VerificationOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var out: OutputOptions

    func validate() throws {
        if inPlace && output != nil { throw ValidationError("--in-place and --output cannot be used together") }
    }

    func run() throws {
        CrashGuard.install(reading: [model])
        try reportingErrors {
            let target = inPlace ? model : (output ?? OutputPath.beside(model, tag: "folded"))
            if !inPlace && OutputPath.sameFile(target, model) {
                throw ValidationError("the output would overwrite the input \(model); use --in-place to replace it")
            }
            let started = Date()
            var loaded: Model? = try Checkpoint.read(model, config: config)
            CrashGuard.readingDone()
            let format = loaded!.format
            var assumed: [String] = []
            if assumeInference {
                // The rewritten model is also the reference verification compares against.
                (loaded, assumed) = AssumeInference.apply(to: loaded!)
            }
            let opsBefore = RunReport.opCounts(loaded!)
            let unknown = Set(keep).subtracting(loaded!.nodes.map(\.name))
            if !unknown.isEmpty {
                throw ValidationError("--keep names no layer of \(model): \(unknown.sorted().joined(separator: ", "))")
            }
            // Verification needs the original beside the folded model; without it, the original is
            // handed over so each replaced kernel is freed as soon as its folded copy exists.
            let original: Model? = noVerify ? nil : loaded
            let input = loaded!
            loaded = nil
            let folded = try FoldBatchNorm(keep: Set(keep)).apply(to: consume input)
            let foldSeconds = Date().timeIntervalSince(started)

            var report: VerificationReport?
            if let original {
                let options = try verification.verifierOptions(inputCount: original.inputs.count, candidate: folded.model)
                let bar = ProgressBar(stage: "verify", total: options.randomRuns + options.inputs.count, unit: "runs", quiet: out.quiet || out.json)
                do {
                    report = try Verifier(options: options).compare(reference: original, candidate: folded.model,
                                                                    foldMap: folded.valueMap, progress: { done, _ in bar.update(done) })
                } catch let error as EngineError {
                    bar.finish()
                    throw HintedError(error, file: model, hint: "the engine cannot verify this model; rerun with --no-verify to fold without verification")
                }
                bar.finish()
            }
            let passed = report?.passed ?? true
            let write = passed || force
            if write {
                // Nothing folded and no BN switched to inference: the model is unchanged, so the
                // file is copied byte for byte (a weights-only file then goes with the architecture
                // it was read with).
                if folded.changed || !assumed.isEmpty {
                    try Checkpoint.write(folded.model, to: target)
                } else if !inPlace {
                    try AtomicFile.copy(from: model, to: target)
                }
            }
            let summary = FoldSummary(command: "fold", input: model, output: write ? target : nil,
                                      format: format.rawValue, batchNorms: folded.decisions,
                                      folded: folded.decisions.filter(\.folds).count, verification: report,
                                      inputBytes: OutputPath.fileSize(model), outputBytes: write ? OutputPath.fileSize(target) : nil,
                                      seconds: Date().timeIntervalSince(started))
            try self.report.write(RunReport(command: "fold", input: model, output: summary.output, format: format.displayName,
                                            decisions: folded.decisions, verification: report, opsBefore: opsBefore,
                                            opsAfter: RunReport.opCounts(folded.model), inputBytes: summary.inputBytes,
                                            outputBytes: summary.outputBytes,
                                            notes: assumed.isEmpty ? [] : ["assumed inference for \(assumed.joined(separator: ", "))"]))
            if out.json {
                print(try summary.jsonText())
            } else if out.printsText {
                print("\(model): \(format.displayName), \(folded.decisions.count) BatchNorm layer(s), \(summary.folded) folded")
                if !assumed.isEmpty {
                    print("assumed inference (stored statistics, training mode off): \(assumed.joined(separator: ", "))")
                }
                ReportText.decisions(folded.decisions).forEach { print($0) }
                if let report { ReportText.verification(report, verbose: out.verbose).forEach { print($0) } }
                if write {
                    print("wrote \(target) (\(OutputPath.sizeText(summary.outputBytes ?? 0)), input \(OutputPath.sizeText(summary.inputBytes))) in \(String(format: "%.2f", summary.seconds)) s (fold \(String(format: "%.3f", foldSeconds)) s)")
                }
            }
            if !passed && force {
                Terminal.printError("bnconv: warning: verification failed (beyond tolerance \(ReportText.sci(report?.tolerance ?? 0))); written anyway because of --force")
            }
            if !passed && !force {
                Terminal.printError("bnconv: verification failed: the folded model differs from the original beyond tolerance \(ReportText.sci(report?.tolerance ?? 0)); nothing was written (--force writes anyway)")
                throw ExitStatus.verificationFailed
            }
        }
    }
}

/// The `--json` object of `fold` (and `convert`): a stable schema documented in the README.
struct FoldSummary: Codable {
    var command: String
    var input: String
    var output: String?
    var format: String
    var batchNorms: [FoldDecision]
    var folded: Int
    var verification: VerificationReport?
    var inputBytes: Int
    var outputBytes: Int?
    var seconds: Double

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
