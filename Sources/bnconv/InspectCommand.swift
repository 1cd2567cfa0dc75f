import ArgumentParser
import BNConv
import Foundation

/// `bnconv inspect FILE [--json] [--config JSON] [--naming CONVENTION]`: the format, layers and
/// BatchNorms of a checkpoint, what folding would do with each BatchNorm, and optionally how each
/// BatchNorm is named in another framework's convention. Reads only; writes nothing.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's format, layers and BatchNorms, and whether each BatchNorm can be folded.",
        discussion: """
        Reads only; writes nothing. --quiet prints one line (format, layers, BatchNorms, how many fold); \
        --verbose adds every stored weight with its role, shape and dtype.

        Each BatchNorm is also checked for moving statistics that never updated \
        (stale-moving-statistics), zero, negative or non-finite statistics, a fold that would overflow \
        float16 (float16-overflow) and batch statistics in an inference graph (batch-statistics); \
        warnings are listed under the BatchNorm (in --json as batchNorms[i].warnings) and leave the exit \
        status 0. A TensorFlow checkpoint (PREFIX, with PREFIX.meta or --meta) or SavedModel directory \
        is read as a frozen graph; a training graph's BatchNorms that normalize by batch moments are \
        a graph warning (batch-statistics; in --json, graphWarnings).

        Example:
          bnconv inspect model.h5
          bnconv inspect model.ckpt                     # a TensorFlow checkpoint: finds stale statistics
          bnconv inspect saved_model_dir --json
          bnconv inspect model.weights.h5 --config model.json --json
          bnconv inspect model.onnx --naming torch      # each BN's names in a PyTorch state dict
        """
    )

    @Argument(help: "The checkpoint: Keras .h5 / .keras / .weights.h5, TensorFlow .pb, a TensorFlow checkpoint prefix or SavedModel directory, ONNX .onnx.")
    var file: String

    @Option(help: "The architecture for a weights-only file: model.to_json() output or a .keras file.")
    var config: String?

    @Option(help: ArgumentHelp("Also show each BatchNorm's parameter names, shapes and hyper-parameters in this convention (\(BatchNormNaming.Convention.allCases.map(\.rawValue).joined(separator: ", "))).",
                               valueName: "convention"))
    var naming: BatchNormNaming.Convention?

    @OptionGroup var inputFiles: InputFileOptions
    @OptionGroup var out: OutputOptions

    func run() throws {
        CrashGuard.install(reading: [file] + (config.map { [$0] } ?? []))
        try reportingErrors {
            let model = try Checkpoint.read(file, config: config, options: inputFiles.readOptions)
            CrashGuard.readingDone()
            let summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
            let names = naming.map { BatchNormNaming(model: model, convention: $0) }
            if out.json {
                print(try InspectJSON(summary: summary, naming: names).jsonText())
            } else if out.quiet {
                print(InspectCommand.headline(summary, file: file))
            } else {
                print(summary.text(file: file, warningStyle: Terminal.warn))
                if out.verbose { InspectCommand.weightLines(model).forEach { print($0) } }
                if let names { print(""); NamingText.lines(names).forEach { print($0) } }
            }
        }
    }

    /// The `--quiet` line: `FILE: FORMAT, N layers, K BatchNorm(s), F foldable`, and `, W with
    /// warnings` when any BatchNorm has one.
    static func headline(_ summary: CheckpointSummary, file: String) -> String {
        let foldable = summary.batchNorms.filter { $0.foldInto != nil }.count
        let warned = summary.batchNormsWithWarnings
        return "\(file): \(summary.formatName), \(summary.layers.count) layers, \(summary.batchNorms.count) BatchNorm(s), \(foldable) foldable"
            + (warned > 0 ? ", \(warned) with warnings" : "")
    }

    /// The `--verbose` table: every stored weight of every node with its role, shape, dtype and layout.
    static func weightLines(_ model: Model) -> [String] {
        var lines = ["", "Weights (\(model.nodes.reduce(0) { $0 + $1.weights.count })):"]
        for node in model.nodes where !node.weights.isEmpty {
            lines.append("  \(node.name) (\(node.opName))")
            for w in node.weights {
                lines.append("    \(w.role.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(w.tensor.shape) \(w.tensor.dtype.rawValue) \(w.layout.rawValue)  at \(w.storageKey)")
            }
        }
        return lines
    }
}

/// `inspect --json`: the checkpoint summary's keys, plus `naming` with `--naming`.
private struct InspectJSON: JSONSummary {
    let summary: CheckpointSummary
    let naming: BatchNormNaming?

    private enum Key: String, CodingKey { case naming }

    func encode(to encoder: Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(naming, forKey: .naming)
    }
}
