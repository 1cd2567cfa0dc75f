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
          bnconv recalibrate model.ckpt --data calib.npy -o fixed/model.ckpt   # a checkpoint: only the moving statistics new
          bnconv recalibrate saved_model_dir --data calib.npy -o fixed_saved_model
        """
    )

    @Argument(help: "The checkpoint: Keras .h5 / .keras / .weights.h5, TensorFlow .pb, a TensorFlow checkpoint prefix or SavedModel directory, ONNX .onnx.")
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
    @OptionGroup var inputFiles: InputFileOptions
    @OptionGroup var out: OutputOptions

    func validate() throws {
        if data.isEmpty { throw ValidationError("give the calibration samples with --data x.npy") }
        if batchSize < 1 { throw ValidationError("--batch-size must be >= 1") }
        if !fold && (!keep.isEmpty || noVerify || force) { throw ValidationError("--keep, --no-verify and --force go with --fold") }
    }

    func run() throws {
        CrashGuard.install(reading: [model] + (config.map { [$0] } ?? []))
        try reportingErrors {
            let target = output ?? OutputPath.rewritten(model, tag: fold ? "folded" : "recalibrated", changesGraph: fold, config: config)
            if OutputPath.sameFile(target, model) {
                throw ValidationError("the output would overwrite the input \(model); choose another --output")
            }
            let settings = RecalibrationSettings(dataFiles: data, mode: mode, batchSize: batchSize, convention: convention)
            let request = RewriteRequest(input: model, config: config, output: target, recalibration: settings, fold: fold,
                                         keep: Set(keep), verification: fold && !noVerify ? verification.settings : nil, force: force,
                                         readOptions: inputFiles.readOptions)
            let result = try RewritePipeline.run(request, progress: ProgressReporter(quiet: out.quiet || out.json).handler)
            guard let recalibration = result.recalibration else { return }
            if out.json {
                print(try RecalibrateSummary(result, recalibration).jsonText())
            } else if out.printsText {
                let rate = recalibration.seconds > 0 ? Double(recalibration.sampleCount) / recalibration.seconds : 0
                print("\(model): \(result.format.displayName), \(recalibration.drift.count) BatchNorm layer(s) recalibrated on \(recalibration.sampleCount) sample(s)")
                print("mode \(mode.rawValue)\(mode == .momentum ? " (\(recalibration.convention.rawValue) rule)" : ""), batch size \(batchSize), \(recalibration.passes) pass(es) over the data, \(String(format: "%.1f", rate)) calibration samples/s")
                RecalibrationText.drift(recalibration.drift, verbose: out.verbose).forEach { print($0) }
                if fold { ReportText.decisions(result.decisions).forEach { print($0) } }
                if let report = result.verification { ReportText.verification(report, verbose: out.verbose).forEach { print($0) } }
                if result.written {
                    print("wrote \(target) (\(OutputPath.sizeText(result.outputBytes ?? 0))) in \(String(format: "%.2f", result.seconds)) s (recalibration \(String(format: "%.2f", recalibration.seconds)) s)")
                }
            }
            try VerifiedWrite.conclude(result, "the folded model differs from the recalibrated one")
        }
    }
}

extension RecalibrationMode: ExpressibleByArgument {}
extension MovingAverageConvention: ExpressibleByArgument {}
