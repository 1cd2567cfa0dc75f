import Foundation
import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses

/// Writes a layout-converted model in its own format: first to a scratch copy with the output's
/// name, which is read back and (when verifying) checked against the original, so that a writer
/// that cannot express the layout change never leaves a wrong file; then moved into place.
struct LayoutChangeWrite {
    /// The converted model.
    var converted: Model
    /// The model as read, before any pass.
    var original: Model
    /// The layout converted to.
    var layout: DataLayout
    /// The input path (named in errors about the engine).
    var input: String
    /// The target path.
    var output: String
    /// Whether a read-back that differs is written anyway.
    var force: Bool

    /// Stages, reads back, checks (with `comparison` when verifying) and moves into place.
    func write(comparison: ModelComparison?) throws {
        // A killed run cannot remove its scratch directory: the next run removes it (ScratchDirectory).
        let scratch = try ScratchDirectory(prefix: "bnconv-convert")
        defer { scratch.remove() }
        let staged = scratch.url.appendingPathComponent(URL(fileURLWithPath: output).lastPathComponent).path
        func named(_ error: CheckpointError) -> CheckpointError {
            var e = error
            if e.file == staged { e.file = output }
            return e
        }
        let formatName = original.format.displayName
        let hint = "bnconv cannot yet write this layout change as \(formatName); export to .onnx or .safetensors instead"
        do {
            try Checkpoint.write(converted, to: staged, config: nil)
        } catch let error as CheckpointError where error.kind == .unsupported {
            throw HintedError(named(error), hint: hint)
        } catch let error as CheckpointError {
            throw named(error)
        }
        // A weights-only file's converted architecture is written beside it (`x.weights.h5` -> `x.json`,
        // `x.ckpt` -> `x.json`; Keras TF-format weights written as a full `.h5` have none).
        let checkpoint = converted.format == .kerasCheckpoint && KerasConversionTarget.forOutput(output) != .keras2H5
        let besideStaged = KerasWriter.defaultConfigPath(forWeights: checkpoint ? TensorBundleNaming.prefix(of: staged) : staged)
        let stagedConfig = converted.format.isWeightsOnly && FileManager.default.fileExists(atPath: besideStaged) ? besideStaged : nil
        let reread: Model
        do { reread = try Checkpoint.read(staged, config: stagedConfig) } catch let error as CheckpointError { throw named(error) }
        // A writer that knows nothing of layouts writes the original one back: refuse that file.
        let readBack = ConvertedOutput.spatialLayouts(of: reread)
        let wrong = ConvertedOutput.spatialLayouts(of: converted).filter { name, layout in readBack[name].map { $0 != layout } ?? false }
        if let (name, layout) = wrong.sorted(by: { $0.key < $1.key }).first {
            throw HintedError(CheckpointError(.unsupported, file: output, place: name,
                                              problem: "the \(formatName) writer did not write the layout change (the layer reads back as \(layout == .channelsFirst ? "nhwc" : "nchw"))"),
                              hint: hint)
        }
        // What the file holds must be what the pass made, node for node, with the same interface (a
        // writer that leaves an op in its old layout is caught here too when nothing is verified).
        // The boundary is the converted model's: a reader cannot always tell a placeholder's layout.
        let sameInterface = LayoutBoundary(inputs: converted.inputs.map { _ in nil }, outputs: converted.outputs.map { _ in nil })
        do {
            try LayoutConversionCheck(original: converted, converted: reread, boundary: sameInterface).verify()
        } catch let error as LayoutConversionError {
            throw HintedError(CheckpointError(.unsupported, file: output, place: error.node,
                                              problem: "the file written reads back as something else than the converted model: \(error.problem)"),
                              hint: hint)
        }
        if let comparison {
            let report = try comparison.compare(reference: original, candidate: reread, boundary: LayoutBoundary(source: original, converted: converted),
                                                compareLayers: false, stage: "re-read", file: input,
                                                hint: { _ in "the engine cannot verify this model; rerun with --no-verify to convert without verification" })
            if !report.passed && !force {
                let sci = CompactNumber.scientific
                let name = layout == .channelsFirst ? "nchw" : "nhwc"
                throw UnfaithfulWriteError("the \(formatName) writer did not write the \(name) layout faithfully: "
                                           + "the file read back differs from the original by \(sci(report.worst?.maxRel ?? 0)) (tolerance \(sci(report.tolerance))); "
                                           + "nothing was written (export to .onnx or .safetensors instead)")
            }
        }
        if checkpoint {
            // The bundle's data file, then its index (the order TensorFlow renames them in), then the
            // `checkpoint` state file naming the new prefix.
            let (from, to) = (TensorBundleNaming.prefix(of: staged), TensorBundleNaming.prefix(of: output))
            for suffix in [".data-00000-of-00001", ".index"] { try AtomicFile.copy(from: from + suffix, to: to + suffix) }
            try KerasCheckpointWriter.writeState(prefix: to)
        } else {
            try AtomicFile.copy(from: staged, to: output)
        }
        if let stagedConfig {
            try AtomicFile.copy(from: stagedConfig, to: KerasWriter.defaultConfigPath(forWeights: checkpoint ? TensorBundleNaming.prefix(of: output) : output))
        }
    }
}
