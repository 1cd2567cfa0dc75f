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

    @Option(name: .shortAndLong, help: "Where to write (default: NAME.folded.EXT beside the input).")
    var output: String?

    @Option(name: .customLong("keep"), help: ArgumentHelp("Keep this BatchNorm layer (repeatable).", valueName: "layer"))
    var keep: [String] = []

    @Flag(help: "Fold training-mode BatchNorms (is_training / training_mode) that store their statistics, using those statistics: the model will only run inference.")
    var assumeInference = false

    @Flag(help: "Replace the input file (written beside it first, then renamed over it).")
    var inPlace = false

    /// The input, --config, verification, --no-verify, --force, --report and the output flags.
    @OptionGroup var job: RewriteOptions

    func validate() throws {
        if inPlace && output != nil { throw ValidationError("--in-place and --output cannot be used together") }
    }

    func run() throws {
        let model = job.model, out = job.out
        CrashGuard.install(reading: [model])
        try reportingErrors {
            let target = inPlace ? model : (output ?? OutputPath.beside(model, tag: "folded"))
            if !inPlace && OutputPath.sameFile(target, model) {
                throw ValidationError("the output would overwrite the input \(model); use --in-place to replace it")
            }
            let started = Date()
            // An existing output's cached pages are dropped on the other core while the input is
            // read (never the input's own: --in-place replaces the file being read).
            if !inPlace { AtomicFile.prepareToReplace(target) }
            // Without verification the kernels a BN folds into are checked for NaN and infinity as
            // they are scaled for writing, not read once more ahead; a file where one has such
            // values is then read and planned again with every check made first.
            var checkWhenWritten = job.noVerify
            while true {
                // Without verification nothing runs the model: large weights stay in the file until the
                // writer copies them (untouched) or folds them one at a time.
                var loaded: Model? = try Checkpoint.read(model, config: job.config, deferringWeights: job.noVerify, options: CommandReadOptions.current)
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
                    throw ValidationError("--keep names no layer of \(model): \(unknown.sorted().joined(separator: ", ")) (bnconv inspect \(model) lists its BatchNorm layers)")
                }
                // Verification needs the original beside the folded model; without it, the original is
                // handed over so each replaced kernel is freed as soon as its folded copy exists.
                let original: Model? = job.noVerify ? nil : loaded
                let input = loaded!
                loaded = nil
                let folded = try FoldBatchNorm(keep: Set(keep), checksDeferredKernelsWhenWritten: checkWhenWritten).apply(to: consume input)
                let foldSeconds = Date().timeIntervalSince(started)

                let report = try original.flatMap {
                    try job.verify(reference: $0, candidate: folded.model, foldMap: folded.valueMap, verb: "fold")
                }
                let gate = job.gate(report)
                // Nothing folded and no BN switched to inference: the model is unchanged, so the file
                // is copied byte for byte (a weights-only file then goes with the architecture it was
                // read with).
                let write: Bool
                do {
                    write = try gate.write {
                        if folded.changed || !assumed.isEmpty {
                            try Checkpoint.write(folded.model, to: target)
                        } else if !inPlace {
                            try AtomicFile.copy(from: model, to: target)
                        }
                    }
                } catch FoldError.nonFiniteKernel where checkWhenWritten {
                    checkWhenWritten = false
                    continue
                }
                let summary = FoldSummary(command: "fold", input: model, output: write ? target : nil,
                                          format: format.rawValue, batchNorms: folded.decisions,
                                          folded: folded.decisions.filter(\.folds).count, verification: report,
                                          inputBytes: OutputPath.fileSize(model), outputBytes: write ? OutputPath.fileSize(target) : nil,
                                          seconds: Date().timeIntervalSince(started))
                try job.report.write(RunReport(command: "fold", input: model, output: summary.output, format: format.displayName,
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
                try gate.conclude("the folded model differs from the original")
                return
            }
        }
    }
}

/// The `--json` object of `fold` (and `convert`): a stable schema documented in the README.
struct FoldSummary: Codable, JSONSummary {
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
}
