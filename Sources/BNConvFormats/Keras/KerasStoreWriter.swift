import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a Keras 3 store (`model.weights.h5` of a `.keras`, or a `.weights.h5`) for an edited
/// Model: group names replayed from the edited layer list (so counters close up over removed
/// layers, as Keras's structural loader expects), `vars/<i>` in the node's weight order, and the
/// `name` attributes the original file had.
struct KerasStoreWriter {
    /// The edits to write.
    let edits: KerasModelEdits
    /// The rewritten architecture (removed layers gone), whose layer order names the groups.
    let container: KerasContainer

    /// Writes into `file` (new and empty).
    func write(to file: HDF5File) throws {
        guard let original = edits.record.container else {
            throw KerasConfigError(place: "", problem: "the model has no Keras architecture to name its store groups")
        }
        let root = try file.root()
        try writeContainer(container, original: original, groupPath: "", path: [], root: root, isRoot: true)
    }

    /// The store groups of a container's layers as read, by layer name (for their `name` attributes).
    private func originalGroups(_ container: KerasContainer, groupPath: String) -> [String: String] {
        let layers = container.layers.filter { !(container.isSequential && $0.className == "InputLayer") }
        let names = KerasNaming.storeNames(forClasses: layers.map(\.className))
        return Dictionary(zip(layers.map(\.name), names.map { "/\(groupPath)layers/\($0)" }), uniquingKeysWith: { a, _ in a })
    }

    private func writeContainer(_ container: KerasContainer, original: KerasContainer, groupPath: String, path: [String],
                                root: HDF5Group, isRoot: Bool, originalGroupPath: String? = nil) throws {
        let old = originalGroups(original, groupPath: originalGroupPath ?? groupPath)
        let entries = Dictionary(container.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let originals = Dictionary(original.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let kept = KerasLayerOrder.layers(of: container).compactMap { entries[$0] }.filter { layer in
            !(container.isSequential && layer.className == "InputLayer")
                && !edits.removedLayers.contains((path + [layer.name]).joined(separator: "/"))
        }
        let names = KerasNaming.storeNames(forClasses: kept.map(\.className))
        for (layer, storeName) in zip(kept, names) {
            let group = "\(groupPath)layers/\(storeName)"
            if let nested = layer.nested, let originalNested = originals[layer.name]?.nested {
                let oldNested = old[layer.name].map { String($0.dropFirst()) + "/" }
                try writeContainer(nested, original: originalNested, groupPath: group + "/", path: path + [layer.name], root: root,
                                   isRoot: false, originalGroupPath: oldNested)
                continue
            }
            let vars = try root.createGroup(group + "/vars")
            if let oldGroup = old[layer.name], let name = edits.record.storeNames[oldGroup + "/vars"] {
                try vars.writeStrings("name", [name], encoding: .variableUTF8, scalar: true)
            }
            guard let node = edits.nodesByLayer[(path + [layer.name]).joined(separator: "/")] else { continue }
            for (i, weight) in node.weights.enumerated() {
                try vars.createDataset(String(i), tensor: weight.tensor, creation: edits.record.creation[weight.storageKey] ?? .contiguous)
            }
        }
        if kept.isEmpty, !isRoot { _ = try root.openOrCreateGroup("\(groupPath)layers") }
        let vars = try root.openOrCreateGroup(groupPath.isEmpty ? "vars" : groupPath + "vars")
        if let name = edits.record.storeNames["/" + (originalGroupPath ?? groupPath) + "vars"] {
            try vars.writeStrings("name", [name], encoding: .variableUTF8, scalar: true)
        }
    }
}
