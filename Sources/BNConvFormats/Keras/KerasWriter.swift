import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a Model read from a Keras file back in the same flavour, with the edits a pass made
/// (removed layers, rewired inputs, modified or added weights). Always builds a new file, in a
/// temporary file beside the target that is renamed over it only on success. Keras TF-format
/// weights are written by `KerasCheckpointWriter` (or as a Keras 2 `.h5` for an `.h5` name).
public enum KerasWriter {
    /// Writes `model` to `path` in the flavour it was read from. A weights-only flavour holds no
    /// architecture: when the edits changed it, the rewritten config (`model.to_json()` style) that
    /// the new weights load into is written to `configPath`, by default beside the weights
    /// (``defaultConfigPath(forWeights:)``).
    public static func write(_ model: Model, to path: String, configPath: String? = nil) throws {
        try write(model, changes: nil, to: path, configPath: configPath)
    }

    /// ``write(_:to:configPath:)`` with the model's ``ModelChanges`` worked out already (`nil`:
    /// worked out here).
    static func write(_ model: Model, changes: ModelChanges?, to path: String, configPath: String?) throws {
        guard let record = model.source as? KerasModelRecord else {
            throw CheckpointError(.unsupported, file: path, problem: "the model was not read from a Keras file, so there is no Keras layout to write it in")
        }
        guard let changes = changes ?? ModelChanges(model) else {
            throw CheckpointError.noReadOutline(file: path)
        }
        if record.format == .kerasCheckpoint {
            // TF-format weights: a checkpoint again, or a Keras 2 HDF5 model for an .h5 name.
            if KerasConversionTarget.forOutput(path) == .keras2H5 {
                try writeKeras2H5(model, changes: changes, to: path)
            } else {
                try KerasCheckpointWriter.write(model, changes: changes, to: path, configPath: configPath)
            }
            return
        }
        do {
            try AtomicFile.write(to: path) { temporaryPath in
                let temporary = URL(fileURLWithPath: temporaryPath)
                try model.validate()
                let edits = try KerasModelEdits(model: model, record: record, changes: changes)
                var configText = record.configText
                guard let config = record.config else {
                    throw CheckpointError(.unsupported, file: path, problem: "the model has no Keras config to write")
                }
                let rewritten = try KerasConfigRewriter(edits: edits).rewrite(config)
                if rewritten != config || configText == nil { configText = rewritten.serialized() }
                let container = try KerasContainer(model: rewritten, place: "config")
                switch record.format {
                case .keras2H5, .keras3LegacyH5, .keras2WeightsH5:
                    let file = try HDF5File.create(temporary.path, unbufferedRawData: true)
                    try KerasLegacyWriter(edits: edits, container: container, configText: record.format == .keras2WeightsH5 ? nil : configText).write(to: file)
                    try file.close()
                case .keras3WeightsH5:
                    let file = try HDF5File.create(temporary.path)
                    try KerasStoreWriter(edits: edits, container: container).write(to: file)
                    try file.close()
                case .kerasZip:
                    let store = KerasStoreWriter(edits: edits, container: container)
                    try KerasArchiveWriter.write(members: record.archiveMembers, config: Array((configText ?? "").utf8),
                                                 weightsBytes: store.weightBytes, to: temporary.path, target: path) { file, whenComputed in
                        try store.write(to: file, whenComputed: whenComputed)
                    }
                case .kerasCheckpoint, .graphDef, .onnx:
                    throw CheckpointError(.unsupported, file: path, problem: "not a Keras format")
                }
                if record.format.isWeightsOnly, rewritten != config || configPath != nil {
                    try writeConfig(configText ?? "", to: configPath ?? defaultConfigPath(forWeights: path))
                }
            }
        } catch let error as any DeferredComputationError {
            throw error   // e.g. a folded kernel checked when written: the caller plans again
        } catch {
            throw mapWriteError(error, path: path)
        }
    }

    /// Where the rewritten architecture of a weights-only file goes by default: `x.weights.h5` ->
    /// `x.json`, `x_weights.h5` -> `x_weights.json`.
    public static func defaultConfigPath(forWeights path: String) -> String {
        if path.hasSuffix(".weights.h5") { return String(path.dropLast(".weights.h5".count)) + ".json" }
        return (path as NSString).deletingPathExtension + ".json"
    }

    /// Writes `text` to `path` through ``AtomicFile``.
    private static func writeConfig(_ text: String, to path: String) throws {
        try AtomicFile.write(Array(text.utf8), to: path)
    }

    /// A write failure as a ``CheckpointError`` naming `path` (HDF5, config and model errors
    /// mapped; a ``CheckpointError`` passed on).
    static func mapWriteError(_ error: Error, path: String) -> CheckpointError {
        switch error {
        case let e as CheckpointError: return e
        case let e as HDF5Error:
            return CheckpointError(.writeFailed, file: path, place: e.path, problem: "cannot \(e.operation)" + (e.message.isEmpty ? "" : " (HDF5: \(e.message))"))
        case let e as KerasConfigError:
            return CheckpointError(.unsupported, file: path, place: e.place, problem: e.problem)
        case let e as ModelError:
            return CheckpointError(.writeFailed, file: path, problem: "the model is inconsistent: \(e)")
        default:
            return CheckpointError(.writeFailed, file: path, problem: "\(error)")
        }
    }
}
