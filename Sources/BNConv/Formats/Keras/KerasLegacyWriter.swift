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
        for name in layerNames {
            let group = try weightsGroup.createGroup(name)
            let entries = try weightEntries(forTopLevel: name)
            try KerasAttributeList.write("weight_names", entries.map(\.name), on: group)
            for entry in entries {
                try group.createDataset(entry.name, tensor: entry.weight.tensor,
                                        creation: record.creation[entry.weight.storageKey] ?? .contiguous)
            }
        }
        if let topLevel = record.topLevelWeights {
            let group = try weightsGroup.createGroup("top_level_model_weights")
            try KerasAttributeList.write("weight_names", topLevel.map(\.storedName), on: group)
            for variable in topLevel {
                try group.createDataset(variable.storedName, tensor: variable.tensor, creation: variable.creation)
            }
        }
    }

    /// One `weight_names` entry and its weight.
    struct Entry {
        /// The stored name.
        var name: String
        /// The weight.
        var weight: Weight
    }

    /// The entries of a top-level layer group, in Keras's order: a plain layer's weights in node
    /// order; a nested model's original order with removed layers dropped and new biases placed
    /// right after their kernel (trainable weights first, non-trainable after).
    private func weightEntries(forTopLevel name: String) throws -> [Entry] {
        if let node = edits.nodesByLayer[name] {
            return try entries(of: node)
        }
        guard let original = edits.record.weightNames[name] else { return [] }
        let leaves = edits.nodesByLayer.filter { $0.key.hasPrefix(name + "/") }.map(\.value)
        var byStoredName: [String: (Node, Weight)] = [:]
        var pending: [(after: String, entry: Entry)] = []
        for node in leaves {
            let nodeEntries = try entries(of: node)
            for entry in nodeEntries {
                if original.contains(entry.name) {
                    byStoredName[entry.name] = (node, entry.weight)
                } else {
                    let anchor = nodeEntries.last { original.contains($0.name) && $0.weight.role != .movingMean && $0.weight.role != .movingVariance }
                    pending.append((anchor?.name ?? "", entry))
                }
            }
        }
        var out: [Entry] = []
        for storedName in original {
            guard let (_, weight) = byStoredName[storedName] else { continue }
            out.append(Entry(name: storedName, weight: weight))
            out += pending.filter { $0.after == storedName }.map(\.entry)
        }
        out += pending.filter { $0.after.isEmpty }.map(\.entry)
        return out
    }

    /// A node's weights with their stored names; a new weight (no stored name) is named after the
    /// layer's kernel: `.../kernel:0` -> `.../bias:0`.
    private func entries(of node: Node) throws -> [Entry] {
        guard let record = node.source as? KerasLayerRecord else { return [] }
        let template = [WeightRole.pointwiseKernel, .kernel, .depthwiseKernel].compactMap { record.storedNames[$0.rawValue] }.first
        return try node.weights.map { weight in
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
