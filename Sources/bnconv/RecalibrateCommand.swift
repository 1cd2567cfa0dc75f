import ArgumentParser
import BNConv
import Foundation

/// `bnconv recalibrate MODEL --data calib.npy`: re-estimates every BatchNorm's moving mean and
/// variance from sample data on the engine and writes the model back in its format and flavour
/// (optionally folded).
struct RecalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recalibrate",
        abstract: "Re-estimate BatchNorm moving statistics from sample data, and write a new checkpoint.",
        discussion: """
        --mode cumulative (the default) stores the exact population mean and variance of each BN's \
        input over all samples, once the BNs before it are recalibrated: what one training-mode \
        forward over all samples as a single batch measures, independent of --batch-size. \
        --mode momentum runs the model with every BatchNorm normalizing by its batch statistics and \
        applies the layer's own moving-average update batch after batch, as the framework does under \
        model(x, training=True). Only the moving statistics change; a per-layer report shows how far \
        they moved.

        --data gives the samples, (N, ...) per array: several arrays are joined along N for a \
        one-input model; a model with K inputs takes K arrays, one per input in order.

        Example:
          bnconv recalibrate model.h5 --data calib.npy           # writes model.recalibrated.h5
          bnconv recalibrate model.keras --data a.npy --data b.npy --mode momentum --batch-size 32
          bnconv recalibrate model.onnx --data calib.npy --fold -o model.folded.onnx
        """
    )

    @Argument(help: "The checkpoint: Keras .h5 / .keras / .weights.h5, TensorFlow .pb, ONNX .onnx.")
    var model: String

    @Option(name: .customLong("data"), help: ArgumentHelp("A .npy array of calibration samples, (N, ...) (repeatable).", valueName: "x.npy"))
    var data: [String] = []

    @Option(help: "Samples per engine run.")
    var batchSize = 32

    @Option(help: "cumulative: exact population statistics; momentum: the layer's own moving-average update per batch.")
    var mode: RecalibrationMode = .cumulative

    @Option(help: "Moving-average rule of --mode momentum: tf-keras, keras3, onnx or pytorch (default: the file's own framework).")
    var convention: MovingAverageConvention?

    @Option(name: .shortAndLong, help: "Where to write (default: NAME.recalibrated.EXT beside the input, NAME.folded.EXT with --fold).")
    var output: String?

    @Option(help: "The architecture for a weights-only file: model.to_json() output or a .keras file.")
    var config: String?

    @Flag(help: "Fold BatchNorm after recalibrating, then verify the folded model against the recalibrated one.")
    var fold = false

    @Option(name: .customLong("keep"), help: ArgumentHelp("With --fold: keep this BatchNorm layer (repeatable).", valueName: "layer"))
    var keep: [String] = []

    @Flag(help: "With --fold: skip verification.")
    var noVerify = false

    @Flag(help: "With --fold: write even when verification fails.")
    var force = false

    @OptionGroup var verification: VerificationOptions
    @OptionGroup var out: OutputOptions

    func validate() throws {
        if data.isEmpty { throw ValidationError("give the calibration samples with --data x.npy") }
        if batchSize < 1 { throw ValidationError("--batch-size must be >= 1") }
        if !fold && (!keep.isEmpty || noVerify || force) { throw ValidationError("--keep, --no-verify and --force go with --fold") }
    }

    func run() throws {
        try reportingErrors {
            let target = output ?? OutputPath.beside(model, tag: fold ? "folded" : "recalibrated")
            if OutputPath.sameFile(target, model) {
                throw ValidationError("the output would overwrite the input \(model); choose another --output")
            }
            let started = Date()
            let original = try Checkpoint.read(model, config: config, options: CommandReadOptions.current)
            if fold {
                let unknown = Set(keep).subtracting(original.nodes.map(\.name))
                if !unknown.isEmpty {
                    throw ValidationError("--keep names no layer of \(model): \(unknown.sorted().joined(separator: ", ")) (bnconv inspect \(model) lists its BatchNorm layers)")
                }
            }
            let samples = try calibrationSet(for: original)
            let rule = convention ?? .of(original)
            let recalibrator = Recalibrator(mode: mode, batchSize: batchSize, convention: rule)
            let bar = ProgressBar(stage: "recalibrate", total: 1, unit: "samples", quiet: out.quiet || out.json)
            let calibrationStarted = Date()
            let result: RecalibrationResult
            do {
                result = try recalibrator.apply(to: original, data: samples, progress: { done, total in bar.update(done, of: total) })
            } catch let error as CalibrationError {
                bar.finish()
                throw located(error)
            } catch let error as EngineError {
                bar.finish()
                throw HintedError(error, hint: "the engine cannot run this model, so it cannot be recalibrated")
            }
            bar.finish()
            let calibrationSeconds = Date().timeIntervalSince(calibrationStarted)

            var toWrite = result.model
            var decisions: [FoldDecision]?
            var report: VerificationReport?
            if fold {
                let folded = try FoldBatchNorm(keep: Set(keep)).apply(to: result.model)
                decisions = folded.decisions
                toWrite = folded.model
                if !noVerify {
                    let options = try verification.verifierOptions(inputCount: result.model.inputs.count, candidate: folded.model)
                    let verifyBar = ProgressBar(stage: "verify", total: options.randomRuns + options.inputs.count, unit: "runs", quiet: out.quiet || out.json)
                    report = try Verifier(options: options).compare(reference: result.model, candidate: folded.model,
                                                                    foldMap: folded.valueMap, progress: { done, _ in verifyBar.update(done) })
                    verifyBar.finish()
                }
            }
            let gate = VerifiedWrite(report: report, force: force)
            let write = try gate.write { try Checkpoint.write(toWrite, to: target) }
            let summary = RecalibrateSummary(
                command: "recalibrate", input: model, output: write ? target : nil, format: original.format.rawValue,
                mode: mode.rawValue, convention: rule.rawValue, batchSize: batchSize, samples: samples.sampleCount,
                passes: result.passes, samplesRun: result.samplesRun, batchNorms: result.drift,
                samplesPerSecond: calibrationSeconds > 0 ? Double(samples.sampleCount) / calibrationSeconds : 0,
                calibrationSeconds: calibrationSeconds, foldDecisions: decisions, verification: report,
                seconds: Date().timeIntervalSince(started))
            if out.json {
                print(try summary.jsonText())
            } else if out.printsText {
                print("\(model): \(original.format.displayName), \(result.drift.count) BatchNorm layer(s) recalibrated on \(samples.sampleCount) sample(s)")
                print("mode \(mode.rawValue)\(mode == .momentum ? " (\(rule.rawValue) rule)" : ""), batch size \(batchSize), \(result.passes) pass(es) over the data, \(String(format: "%.1f", summary.samplesPerSecond)) calibration samples/s")
                RecalibrationText.drift(result.drift, verbose: out.verbose).forEach { print($0) }
                if let decisions { ReportText.decisions(decisions).forEach { print($0) } }
                if let report { ReportText.verification(report, verbose: out.verbose).forEach { print($0) } }
                if write {
                    print("wrote \(target) (\(OutputPath.sizeText(OutputPath.fileSize(target)))) in \(String(format: "%.2f", summary.seconds)) s (recalibration \(String(format: "%.2f", calibrationSeconds)) s)")
                }
            }
            try gate.conclude("the folded model differs from the recalibrated one")
        }
    }

    /// The --data arrays as the model's calibration set: joined along N for a one-input model,
    /// one per input otherwise.
    private func calibrationSet(for model: Model) throws -> CalibrationSet {
        let arrays = try data.map { try NumPyFile.read($0, limits: CommandReadOptions.current.limits) }
        do {
            if model.inputs.count == 1 { return try CalibrationSet(concatenating: arrays) }
            guard arrays.count == model.inputs.count else {
                throw CalibrationError.inputMismatch("the model has \(model.inputs.count) inputs (\(model.inputs.joined(separator: ", "))); give --data once per input, in order")
            }
            return try CalibrationSet(inputs: arrays)
        } catch let error as CalibrationError {
            throw located(error)
        }
    }

    /// The error as one line naming the file it is about: the --data files for data problems,
    /// the model otherwise.
    private func located(_ error: CalibrationError) -> CheckpointError {
        switch error {
        case .noData, .badData, .inputMismatch:
            return CheckpointError(.unsupported, file: data.joined(separator: ", "), problem: error.description)
        case .noBatchNorm, .sharedStatistics:
            return CheckpointError(.unsupported, file: self.model, problem: error.description)
        }
    }
}

extension RecalibrationMode: ExpressibleByArgument {}
extension MovingAverageConvention: ExpressibleByArgument {}

/// The `--json` object of `recalibrate`: a stable schema documented in docs/recalibrate.md.
struct RecalibrateSummary: Codable, JSONSummary {
    var command: String
    var input: String
    var output: String?
    var format: String
    var mode: String
    var convention: String
    var batchSize: Int
    var samples: Int
    var passes: Int
    var samplesRun: Int
    var batchNorms: [BatchNormDrift]
    var samplesPerSecond: Double
    var calibrationSeconds: Double
    var foldDecisions: [FoldDecision]?
    var verification: VerificationReport?
    var seconds: Double
}
