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
        CrashGuard.install(reading: [model] + (job.config.map { [$0] } ?? []))
        try reportingErrors {
            let target = inPlace ? model : (output ?? OutputPath.beside(model, tag: "folded"))
            if !inPlace && OutputPath.sameFile(target, model) {
                throw ValidationError("the output would overwrite the input \(model); use --in-place to replace it")
            }
            var request = job.request(output: target)
            request.replacesInput = inPlace
            request.assumeInference = assumeInference
            request.keep = Set(keep)
            // Large weights stay in the file until the writer copies them (untouched) or folds them
            // one at a time; verification runs both models with their weights read from there.
            request.strategy = .streaming(deferredMinimumBytes: CommandReadOptions.deferredMinimumBytes)
            let result = try job.run(request)
            if out.json {
                print(try FoldSummary(result).jsonText())
            } else if out.printsText {
                print("\(model): \(result.format.displayName), \(result.decisions.count) BatchNorm layer(s), \(result.foldedCount) folded")
                if !result.assumedInference.isEmpty {
                    print("assumed inference (stored statistics, training mode off): \(result.assumedInference.joined(separator: ", "))")
                }
                ReportText.decisions(result.decisions).forEach { print($0) }
                if let report = result.verification { ReportText.verification(report, verbose: out.verbose).forEach { print($0) } }
                if result.written {
                    print("wrote \(target) (\(OutputPath.sizeText(result.outputBytes ?? 0)), input \(OutputPath.sizeText(result.inputBytes))) in \(String(format: "%.2f", result.seconds)) s (fold \(String(format: "%.3f", result.passSeconds)) s)")
                }
            }
            try VerifiedWrite.conclude(result, "the folded model differs from the original")
        }
    }
}
