import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a legacy Keras HDF5 file (Keras 2 `.h5` full or weights-only, Keras 3 legacy `.h5`) for
/// an edited Model into a new, empty HDF5 file: root attributes kept (the config rewritten),
/// `layer_names`/`weight_names` rebuilt with Keras's chunking rule, every dataset written from
/// the Model's tensors with its original creation properties.
struct KerasLegacyWriter {
    /// The edits to write.
    let edits: KerasModelEdits
    /// The rewritten architecture (its layer order is the order Keras will load in).
    let container: KerasContainer
    /// The rewritten config text (full-model files), or `nil` for weights-only files.
    let configText: String?

    /// Writes into `file` (new and empty).
    func write(to file: HDF5File) throws {
        let record = edits.record
        let root = try file.root()
        let weightsGroup: HDF5Group
        if record.format == .keras2WeightsH5 {
            weightsGroup = root
        } else {
            for attribute in record.rootAttributes {
                if attribute.name == "model_config", let configText, case .strings(_, let encoding, let shape) = attribute.value {
                    try HDF5Attribute.write(.strings([configText], encoding, shape: shape), on: root, name: attribute.name)
                } else {
                    try HDF5Attribute.write(attribute.value, on: root, name: attribute.name)
                }
            }
            weightsGroup = try root.createGroup("model_weights")
        }
        for attribute in record.weightsGroupAttributes {
            try HDF5Attribute.write(attribute.value, on: weightsGroup, name: attribute.name)
        }
        let kept = record.layerNames.filter { !edits.removedLayers.contains($0) }
        // Keras pairs layer_names with the rebuilt model's layers by position: follow its order.
        let keptSet = Set(kept)
        let ordered = container.isSequential ? kept : KerasLayerOrder.layers(of: container).filter { keptSet.contains($0) }
        let layerNames = ordered.count == kept.count ? ordered : kept
        try KerasAttributeList.write("layer_names", layerNames, on: weightsGroup)
        // Groups are made in name order, as tf_keras makes them (`save_weights_to_hdf5_group` sorts
        // the layers by name): a layer named `a/b` before `a/b/pad`, whose group would make `a/b`.
        let layers = try layerNames.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            .map { (name: $0, entries: try weightEntries(forTopLevel: $0)) }
        let creation = { (weight: Weight) in record.creation[weight.storageKey] ?? .contiguous }
        let weights = layers.flatMap { $0.entries.map { ($0.weight.tensor, creation($0.weight)) } }
            + (record.topLevelWeights?.map { ($0.tensor, $0.creation) } ?? [])
        // Weights computed from the input's mapping (folded kernels) are written where HDF5 lays
        // out their datasets, from whichever core is free (`raw`); those that must go through
        // HDF5 (a chunked or filtered dataset) are made on another core while this thread hands
        // the previous ones to HDF5 (`prefetcher`).
        let raw = try weights.contains { Self.writesRaw($0.0, creation: $0.1) } && file.hasUnbufferedRawData
            ? ConcurrentTensorWriter(path: file.name) : nil
        let prefetcher = TensorPrefetcher(weights.filter { tensor, creation in
            !(tensor.source is KerasDatasetSource) && !(raw != nil && Self.writesRaw(tensor, creation: creation))
        }.map(\.0))
        let sink = Sink(raw: raw, prefetcher: prefetcher)
        for layer in layers {
            let group = try weightsGroup.createGroup(layer.name)
            try KerasAttributeList.write("weight_names", layer.entries.map(\.name), on: group)
            for entry in layer.entries {
                try write(entry.weight.tensor, as: entry.name, in: group, creation: creation(entry.weight), sink: sink)
            }
        }
        if let topLevel = record.topLevelWeights {
            let group = try weightsGroup.createGroup("top_level_model_weights")
            try KerasAttributeList.write("weight_names", topLevel.map(\.storedName), on: group)
            for variable in topLevel {
                try write(variable.tensor, as: variable.storedName, in: group, creation: variable.creation, sink: sink)
            }
        }
        try raw?.finish()
    }

    /// Where computed weights go besides HDF5 itself.
    private struct Sink {
        /// Writes folded kernels into the storage HDF5 reserved for them.
        var raw: ConcurrentTensorWriter?
        /// Computes the others ahead on another core.
        var prefetcher: TensorPrefetcher
    }

    /// Whether `tensor` can be written by a ``ConcurrentTensorWriter``: still to be computed from
    /// the input's mapping (a folded kernel: the reader deferred it for its size; an untouched
    /// dataset is copied as stored instead), for a contiguous unfiltered dataset, whose stored
    /// bytes are exactly the tensor's.
    static func writesRaw(_ tensor: Tensor, creation: HDF5DatasetCreation) -> Bool {
        tensor.isDeferred && tensor.loadsConcurrently && !(tensor.source is KerasDatasetSource)
            && creation.layout == .contiguous && creation.filters.isEmpty && tensor.count > 0
            && tensor.dtype.isFloatingPoint
    }

    /// Writes one weight as the dataset `name` of `group`. A tensor still deferred to its dataset
    /// of the source file (never changed, never loaded) is copied dataset to dataset, as stored;
    /// a computed one still deferred (a folded kernel) gets its dataset and storage from HDF5 and its bytes
    /// from `sink.raw`; any other is written from memory with `creation` (a deferred result is
    /// computed now, or taken from `sink.prefetcher`, and released once written).
    private func write(_ tensor: Tensor, as name: String, in group: HDF5Group, creation: HDF5DatasetCreation,
                       sink: Sink) throws {
        if let source = tensor.source as? KerasDatasetSource {
            try group.copy(source.path, from: try source.file.root(), as: name)
        } else if let raw = sink.raw, Self.writesRaw(tensor, creation: creation) {
            let dataset = try group.createDataset(name, dtype: tensor.dtype, shape: tensor.shape, creation: creation)
            raw.enqueue(tensor, at: try dataset.reserveContiguousStorage())
            return
        } else {
            try group.createDataset(name, tensor: try sink.prefetcher.take(tensor) ?? tensor.materialized(), creation: creation)
        }
        // Large data goes to disk while the next weight is prepared (the final fsync is then short).
        if tensor.count * tensor.dtype.byteCount >= KerasLegacyWriter.writebackBytes { Writeback.start(group.file.name) }
    }

    /// A dataset at least this large starts the file's writeback once written.
    static let writebackBytes = 1 << 20

    /// One `weight_names` entry and its weight.
    struct Entry {
        /// The stored name.
        var name: String
        /// The weight.
        var weight: Weight
    }

    /// The entries of a top-level layer group, in Keras's order (`_legacy_weights`): a plain
    /// layer's weights in node order; for a nested model, the trainable weights of every leaf layer
    /// in the order Keras rebuilds its layers, then the non-trainable ones (docs/formats.md, Nested models).
    private func weightEntries(forTopLevel name: String) throws -> [Entry] {
        if let node = edits.nodesByLayer[name] {
            return try entries(of: node)
        }
        guard let nested = container.layers.first(where: { $0.name == name })?.nested else { return [] }
        var trainable: [Entry] = [], frozen: [Entry] = []
        try collect(nested, path: [name], parentTrainable: true, trainable: &trainable, frozen: &frozen)
        return trainable + frozen
    }

    /// Adds a container's leaf weights to the trainable or non-trainable list, layers in `model.layers` order.
    private func collect(_ nested: KerasContainer, path: [String], parentTrainable: Bool,
                         trainable: inout [Entry], frozen: inout [Entry]) throws {
        let entries = Dictionary(nested.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for layerName in KerasLayerOrder.layers(of: nested) {
            guard let layer = entries[layerName] else { continue }
            let isTrainable = parentTrainable && (layer.config["trainable"]?.boolValue ?? true)
            if let inner = layer.nested {
                try collect(inner, path: path + [layerName], parentTrainable: isTrainable, trainable: &trainable, frozen: &frozen)
                continue
            }
            guard let node = edits.nodesByLayer[(path + [layerName]).joined(separator: "/")] else { continue }
            for entry in try self.entries(of: node) {
                let statistic = [WeightRole.movingMean, .movingVariance, .mean, .variance, .count].contains(entry.weight.role)
                if isTrainable && !statistic { trainable.append(entry) } else { frozen.append(entry) }
            }
        }
    }

    /// A node's weights with their stored names; a new weight (no stored name) is named after the
    /// layer's kernel: `.../kernel:0` -> `.../bias:0`.
    private func entries(of node: Node) throws -> [Entry] {
        guard let record = node.source as? KerasLayerRecord else { return [] }
        let template = [WeightRole.pointwiseKernel, .kernel, .depthwiseKernel].compactMap { record.storedNames[$0.rawValue] }.first
        return try KerasLayerRecord.storedWeights(of: node).map { weight in
            if let name = record.storedNames[weight.role.rawValue], !weight.storageKey.isEmpty {
                return Entry(name: name, weight: weight)
            }
            guard let template else {
                throw KerasConfigError(place: node.name, problem: "cannot name the new '\(weight.role)' weight: the layer has no stored kernel")
            }
            return Entry(name: KerasLegacyWriter.rename(template, to: weight.role.rawValue), weight: weight)
        }
    }

    /// `scope/kernel:0` -> `scope/<variable>:0`; `scope/kernel` -> `scope/<variable>`.
    static func rename(_ storedName: String, to variable: String) -> String {
        var parts = storedName.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let last = parts.removeLast()
        let suffix = last.lastIndex(of: ":").map { String(last[$0...]) } ?? ""
        return (parts + [variable + suffix]).joined(separator: "/")
    }
}
