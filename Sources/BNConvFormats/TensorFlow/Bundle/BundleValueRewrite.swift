import BNConvCore
import BNConvModel

/// A tensor bundle written again after passes changed values only (`recalibrate`): every tensor
/// copied as stored, in the data file's order (object graph, optimizer slots, strings included,
/// byte for byte), but each changed weight's, new. Serves the TensorFlow checkpoint writer and the
/// Keras TF-format weights writer, which differ only in how a weight names its checkpoint key.
enum BundleValueRewrite {
    /// A changed weight that has no entry in the bundle, or no longer fits its entry.
    struct Mismatch: Error {
        /// Which weight and why, for a message.
        var reason: String
    }

    /// Whether `changes` are values only: no node created or removed, no op, wire or output
    /// changed, no weight added or removed.
    static func changesValuesOnly(_ changes: ModelChanges) -> Bool {
        changes.removed.isEmpty && !changes.outputCountChanged && changes.outputs.isEmpty
            && !changes.nodes.contains { $0.isCreated || $0.opChanged || $0.inputCountChanged || !$0.rewiredInputs.isEmpty
                || $0.weights.contains { $0.kind != .modified } }
    }

    /// The items that write `bundle` again with `model`'s changed weights (`changes`, values only);
    /// `key` gives a weight's checkpoint key (nil: not a variable of the bundle). Throws
    /// ``Mismatch`` for a changed weight without an entry, or of another dtype or size than it.
    static func items(_ model: Model, changes: ModelChanges, bundle: TensorBundle, key: (Weight) -> String?) throws -> [TensorBundleItem] {
        var replaced = [String: Tensor]()
        for change in changes.nodes where !change.weights.isEmpty {
            let node = model.nodes[change.index]
            for w in change.weights {
                guard let weight = node.weight(w.role), let key = key(weight), let entry = bundle.entry(key) else {
                    throw Mismatch(reason: "the \(w.role.rawValue) of '\(node.name)' changed, but it is not a variable of the checkpoint (a constant of the graph)")
                }
                let tensor = try weight.tensor.materialized()
                guard let dtype = entry.dtype, tensor.dtype == dtype, tensor.count == entry.elementCount else {
                    throw Mismatch(reason: "the \(w.role.rawValue) of '\(node.name)' (\(key)) changed dtype or size (\(tensor.dtype) \(tensor.shape), the checkpoint holds \(entry.shape))")
                }
                replaced[key] = try tensor.reshaped(entry.shape)
            }
        }
        return bundle.keysInStorageOrder.map { key in
            TensorBundleItem(key: key, content: replaced[key].map { .tensor($0) } ?? .copied(from: bundle, key: key))
        }
    }
}
