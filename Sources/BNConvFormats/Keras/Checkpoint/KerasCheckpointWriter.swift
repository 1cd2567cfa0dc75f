import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a Keras model (tf_keras, the Keras 2 dialect) as Keras TF-format weights: the tensor
/// bundle tf_keras `model.save_weights("w.ckpt")` writes (`w.ckpt.index` +
/// `w.ckpt.data-00000-of-00001`), the `checkpoint` state file beside it naming it, and, when the
/// architecture changed or did not come from a `--config` file, the architecture (`w.json`, or
/// the `config` path given) that `model_from_json` rebuilds the model from.
///
/// A model read from such a checkpoint whose passes changed only values (`recalibrate`) is
/// written in its place: every tensor is copied as stored (object graph, optimizer slots and
/// step included, byte for byte), only the changed variables are new, in the data file's order.
/// Otherwise (a fold removed layers, a layout changed, an `.h5` is converted) the objects and keys
/// are laid out afresh (``KerasCheckpointObjects``) with the model's weights and no optimizer
/// state. The bundle is written atomically (``TensorBundleWriter``).
package enum KerasCheckpointWriter {
    /// Writes `model` as TF-format weights at `path` (a prefix; a trailing `.index` is dropped).
    static func write(_ model: Model, changes: ModelChanges?, to path: String, configPath: String?) throws {
        guard let record = model.source as? KerasModelRecord else {
            throw CheckpointError(.unsupported, file: path, problem: "Keras TF-format weights are written from a Keras model; this one was read from \(model.format.displayName)")
        }
        guard record.dialect == .keras2 else {
            throw CheckpointError(.unsupported, file: path, problem: "TF-format weights are what tf_keras (Keras 2) writes and restores, but this model's config is Keras 3, which tf_keras cannot rebuild; write its own format instead")
        }
        guard let changes = changes ?? ModelChanges(model) else {
            throw CheckpointError.noReadOutline(file: path)
        }
        let prefix = TensorBundleNaming.prefix(of: path)
        do {
            try model.validate()
            let edits = try KerasModelEdits(model: model, record: record, changes: changes)
            guard let config = record.config else {
                throw CheckpointError(.unsupported, file: path, problem: "the model has no Keras config to write")
            }
            let rewritten = try KerasConfigRewriter(edits: edits).rewrite(config)
            let configChanged = rewritten != config
            let items: [TensorBundleItem]
            if !configChanged, record.format == .kerasCheckpoint, let source = record.checkpointPrefix,
               let copied = try copiedItems(model, changes: changes, from: source) {
                items = copied
            } else {
                let objects = try KerasCheckpointObjects(container: try KerasContainer(model: rewritten, place: "config"), edits: edits)
                items = objects.tensors.map { TensorBundleItem(key: $0.key, content: .tensor($0.tensor)) }
                    + [TensorBundleItem(key: TensorBundle.objectGraphKey, content: .strings([objects.graph.encoded()], shape: []))]
            }
            try TensorBundleWriter.write(prefix: prefix, items: items)
            try writeState(prefix: prefix)
            if configChanged || configPath != nil || !record.format.isWeightsOnly {
                let text = configChanged || record.configText == nil ? rewritten.serialized() : record.configText!
                try AtomicFile.write(Array(text.utf8), to: configPath ?? KerasWriter.defaultConfigPath(forWeights: prefix))
            }
        } catch let error as any DeferredComputationError {
            throw error
        } catch {
            throw KerasWriter.mapWriteError(error, path: path)
        }
    }

    /// The items of the checkpoint at `source`, each copied as stored but the variables whose
    /// values changed (``BundleValueRewrite``); `nil` when the changes are more than values or a
    /// changed value no longer fits its entry (another dtype or size).
    private static func copiedItems(_ model: Model, changes: ModelChanges, from source: String) throws -> [TensorBundleItem]? {
        guard BundleValueRewrite.changesValuesOnly(changes) else { return nil }
        do {
            return try BundleValueRewrite.items(model, changes: changes, bundle: try TensorBundle(prefix: source)) { $0.storageKey }
        } catch is BundleValueRewrite.Mismatch {
            return nil
        }
    }

    /// Writes the `checkpoint` state file beside `prefix` naming it, as `save_weights` does
    /// (`model_checkpoint_path: "w.ckpt"`, the path relative to the folder).
    package static func writeState(prefix: String) throws {
        let url = URL(fileURLWithPath: prefix)
        let name = url.lastPathComponent.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let text = "model_checkpoint_path: \"\(name)\"\nall_model_checkpoint_paths: \"\(name)\"\n"
        try AtomicFile.write(Array(text.utf8), to: url.deletingLastPathComponent().appendingPathComponent("checkpoint").path)
    }
}
