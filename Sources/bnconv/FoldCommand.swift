import ArgumentParser
import BNConv
import Foundation

/// `bnconv fold IN... [-o OUT]`: folds every BatchNorm that can be folded safely, verifies the
/// result against the original on the engine, and writes it in the input's format and flavour.
/// Several inputs, or a directory, fold each file in a process of its own (`--jobs` at a time)
/// and end with one table.
struct FoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fold",
        abstract: "Fold BatchNorm into the neighbouring conv/dense layers, verify, and write a new checkpoint.",
        discussion: """
        Every BatchNormalization is folded into the conv, depthwise, separable, transposed conv or dense \
        layer before it (or, without padding, the one after it) when that is exact; the others are kept \
        and the reason is printed. The original and the folded model are then run on the engine on the \
        same inputs; beyond --tolerance nothing is written and the exit status is 3.

        Several inputs, or a directory (its .h5 .hdf5 .keras .onnx .pb files, sorted by name, not \
        subdirectories, skipping *.folded.* outputs), are folded one file per bnconv process, --jobs at a \
        time, with every option applied to each file; one table (or with --json one JSON list) follows. \
        Each result goes beside its input, or with -o DIR into that directory (made if missing); two \
        results on one name are refused before anything runs. The exit status is the highest of the \
        files' (3 if any failed verification, else 1 if any failed). --config and --report take one input.

        Example:
          bnconv fold model.h5                 # writes model.folded.h5 beside it
          bnconv fold model.keras -o out.keras --keep stem_bn --input x.npy
          bnconv fold model.weights.h5 --config model.json
          bnconv fold zoo/ --jobs 2 -o folded/ # each model in zoo/, 2 at once
          bnconv fold a.h5 b.onnx c.pb --json
        """
    )

    @Argument(help: "The checkpoints (Keras .h5 / .keras / .weights.h5, TensorFlow .pb, ONNX .onnx), or directories of them.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Where to write (default: NAME.folded.EXT beside the input); with several inputs or a directory, the directory the results go to.")
    var output: String?

    @Option(name: .customLong("keep"), help: ArgumentHelp("Keep this BatchNorm layer (repeatable).", valueName: "layer"))
    var keep: [String] = []

    @Flag(help: "Fold training-mode BatchNorms (is_training / training_mode) that store their statistics, using those statistics: the model will only run inference.")
    var assumeInference = false

    @Flag(help: "Replace the input file (written beside it first, then renamed over it).")
    var inPlace = false

    @Option(name: .customLong("jobs"), help: ArgumentHelp("With several inputs: how many files to fold at once, each in its own process (at most the number of cores).", valueName: "N"))
    var parallel = 1

    /// --config, verification, --no-verify, --force, --report and the output flags.
    @OptionGroup var job: RewriteOptions

    func validate() throws {
        if inPlace && output != nil { throw ValidationError("--in-place and --output cannot be used together") }
        if parallel < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    /// Whether this is a batch: several inputs, or a directory.
    private var isBatch: Bool { inputs.count > 1 || inputs.contains(where: ModelDirectory.isFolderOfModels) }

    func run() throws {
        if isBatch { return try runBatch() }
        let model = inputs[0], out = job.out
        CrashGuard.install(reading: [model] + (job.config.map { [$0] } ?? []))
        try reportingErrors {
            let target = inPlace ? model : (output ?? OutputPath.rewritten(model, tag: "folded", config: job.config))
            if !inPlace && OutputPath.sameFile(target, model) {
                throw ValidationError("the output would overwrite the input \(model); use --in-place to replace it")
            }
            var request = job.request(input: model, output: target)
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
                ReportText.warnings(result.warnings).forEach { print($0) }
                if let report = result.verification { ReportText.verification(report, verbose: out.verbose).forEach { print($0) } }
                if result.nothingToFold {
                    print("nothing to fold: \(result.decisions.isEmpty ? "the model has no BatchNormalization" : "every BatchNormalization is kept"); nothing was written")
                }
                if result.written {
                    print("wrote \(target) (\(OutputPath.sizeText(result.outputBytes ?? 0)), input \(OutputPath.sizeText(result.inputBytes))) in \(String(format: "%.2f", result.seconds)) s (fold \(String(format: "%.3f", result.passSeconds)) s)")
                }
            }
            try VerifiedWrite.conclude(result, "the folded model differs from the original")
        }
    }

    /// Folds every file of the batch in a child process of its own and prints one table or JSON list.
    private func runBatch() throws {
        let out = job.out
        try reportingErrors {
            if job.config != nil {
                throw ValidationError("--config gives the architecture of one weights-only file; fold several files one command each, or without --config")
            }
            if job.report.path != nil {
                throw ValidationError("--report writes the report of one file; with several inputs use --json for every file's details")
            }
            let plan = try BatchPlan(inputs: inputs, outputDirectory: output, replacesInputs: inPlace)
            try plan.createOutputDirectory()
            let destination = inPlace ? "in place" : output.map { "into \($0)" } ?? "beside the inputs"
            let bar = ProgressBar(stage: "fold", total: plan.jobs.count, unit: "files", quiet: out.quiet || out.json)
            let batch = BatchFold(plan: plan, arguments: childArguments,
                                  parallel: min(parallel, ProcessInfo.processInfo.activeProcessorCount, plan.jobs.count))
            let entries = batch.run { done, entry, stderr in
                let lines = BatchFoldEntry.forwardedLines(stderr, file: entry.file)
                    + (entry.status == .crashed ? ["bnconv: error: \(entry.file): \(entry.error ?? "crashed")"] : [])
                if !lines.isEmpty { bar.finish() }
                lines.forEach { Terminal.printError($0) }
                bar.update(done)
            }
            bar.finish()
            if out.json {
                print(try BatchFoldList(entries: entries).jsonText())
            } else if out.printsText {
                BatchFoldTable.lines(entries, outputs: destination).forEach { print($0) }
            }
            let status = BatchFold.exitStatus(entries)
            if status != 0 { throw ExitCode(status) }
        }
    }

    /// The arguments of the child that folds `job`: this command's options for one file, its
    /// output given, and `--json`.
    private func childArguments(_ job: BatchPlan.Job) -> [String] {
        ["--json"] + (inPlace ? ["--in-place"] : ["--output=\(job.output)"])
            + keep.map { "--keep=\($0)" } + (assumeInference ? ["--assume-inference"] : [])
            + self.job.childArguments
    }
}
