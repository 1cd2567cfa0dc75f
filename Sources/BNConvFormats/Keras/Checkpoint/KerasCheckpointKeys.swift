import BNConvCore
import BNConvModel
import BNConvInterop

/// Which tensors of a Keras TF-format weights checkpoint are which layer's variables, found through
/// the checkpoint's object graph (docs/formats.md, Keras TF-format weights), never from the keys'
/// spelling.
///
/// tf_keras saves a model as an object whose children are its layers: `layer-M` for the M-th layer
/// of `model.layers` (a Sequential's without its InputLayer) and, for a layer that has weights, also
/// `layer_with_weights-N` (N counting those layers only), both naming the same object. A layer's
/// children are its variables under the names it gave `add_weight` (`kernel`, `gamma`), each an
/// object with a `VARIABLE_VALUE` attribute that holds the checkpoint key; a nested model is an
/// object of the same kind. The config's layers are matched to `layer-M` in that order, a layer
/// whose object holds variables must be `layer_with_weights-N` too, and each layer's variables
/// must be the ones its config creates, so a config whose layers do not line up with the
/// checkpoint's is refused rather than loaded shifted.
///
/// Everything else the root holds (`optimizer`, `save_counter`, tf.functions) is not the model's.
struct KerasCheckpointKeys {
    /// Each leaf layer's variables by layer path (`conv`, `block/dw`), in the order the layer's
    /// object lists them (the order the layer created them); a variable the layer tracks under two
    /// names (tf_keras Normalization's `mean` and `adapt_mean`) once, by its first name.
    private(set) var variables: [String: [KerasCheckpointVariable]] = [:]
    /// The object path of each leaf layer with weights (`layer_with_weights-0`, `layer_with_weights-2/layer_with_weights-1`).
    private(set) var objectPaths: [String: String] = [:]

    /// The object graph.
    private let graph: ProtobufTrackableObjectGraph
    /// The checkpoint, for errors.
    private let file: String

    /// Matches the layers of `container` (the architecture) to the objects of `graph`; `file`
    /// names the checkpoint in errors.
    init(graph: ProtobufTrackableObjectGraph, container: KerasContainer, file: String) throws {
        self.graph = graph
        self.file = file
        guard !graph.objects.isEmpty else {
            throw CheckpointError(.malformed, file: file, place: TensorBundle.objectGraphKey, problem: "the object graph has no objects")
        }
        try match(container, object: 0, objectPath: "", path: [])
    }

    /// The layers of a container in the `model.layers` order tf_keras numbers them in: a
    /// Functional's as `model_from_json` orders them (``KerasLayerOrder``: by depth, which for a
    /// config tf_keras wrote is its `layers` list, and for one a pass rewrote is the order the
    /// rebuilt model has), a Sequential's list without its InputLayer (`Sequential.layers` leaves
    /// it out).
    static func modelLayers(of container: KerasContainer) -> [KerasLayerEntry] {
        if container.isSequential { return container.layers.filter { $0.className != "InputLayer" } }
        let entries = Dictionary(container.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return KerasLayerOrder.layers(of: container).compactMap { entries[$0] }
    }

    /// Matches `container`'s layers to the children of object `object` (at `objectPath`, ending in
    /// `/` unless empty).
    private mutating func match(_ container: KerasContainer, object: Int, objectPath: String, path: [String]) throws {
        let layers = Self.modelLayers(of: container)
        let children = graph.objects[object].children
        func child(_ name: String) -> Int? { children.first { $0.name == name }?.node }
        let owner = path.isEmpty ? "the model" : "the nested model '\(path.joined(separator: "/"))'"
        let layerObjects = children.filter { $0.name.hasPrefix("layer-") }.count
        var withWeights = 0
        for (m, entry) in layers.enumerated() {
            let layerPath = (path + [entry.name]).joined(separator: "/")
            let place = "\(objectPath)layer-\(m)"
            guard let node = child("layer-\(m)") else {
                throw CheckpointError(.malformed, file: file, place: place, problem:
                    "the config's layer '\(layerPath)' (\(entry.className), layer \(m) of \(owner)) has no object in the checkpoint: "
                    + "the checkpoint's \(path.isEmpty ? "model" : "nested model") has \(layerObjects) layer(s), the config \(layers.count); the config does not match the checkpoint")
            }
            try checkIndex(node, place: place)
            // tf_keras names a layer with weights `layer_with_weights-N` too (the next N); one that
            // holds variables of its own without that name does not line up with the config.
            var layerObjectPath = place
            let name = "layer_with_weights-\(withWeights)"
            if child(name) == node {
                withWeights += 1
                layerObjectPath = "\(objectPath)\(name)"
            } else if entry.nested == nil ? graph.objects[node].children.contains(where: { ownsValue($0.node) }) : holdsValues(node) {
                throw CheckpointError(.malformed, file: file, place: "\(objectPath)\(name)", problem:
                    "the config's layer '\(layerPath)' (\(entry.className)) is layer-\(m) of the checkpoint, which holds variables, but "
                    + (child(name).map { "\(name) is another object (\($0))" } ?? "the checkpoint has no \(name)")
                    + ": the layers with weights do not line up; the config does not match the checkpoint")
            }
            if let nested = entry.nested {
                try match(nested, object: node, objectPath: layerObjectPath + "/", path: path + [entry.name])
                continue
            }
            var found: [KerasCheckpointVariable] = []
            var seen = Set<Int>()
            for c in graph.objects[node].children {
                try checkIndex(c.node, place: "\(layerObjectPath)/\(c.name)")
                // One variable under two names (Normalization's `mean` and `adapt_mean`): the first.
                guard seen.insert(c.node).inserted else { continue }
                if let value = graph.objects[c.node].variableValue {
                    found.append(KerasCheckpointVariable(name: c.name, fullName: value.fullName, key: value.checkpointKey))
                } else {
                    // A sub-layer's variables (a wrapper's, an attention layer's): named by their path
                    // under the layer; only a layer bnconv does not model can have them (`check`).
                    found += subObjectVariables(c.node, name: c.name, seen: &seen)
                }
            }
            try check(found, of: entry, layerPath: layerPath, objectPath: layerObjectPath)
            if !found.isEmpty {
                variables[layerPath] = found
                objectPaths[layerPath] = layerObjectPath
            }
        }
        if let extra = child("layer-\(layers.count)") {
            let keys = valueKeys(under: extra)
            throw CheckpointError(.malformed, file: file, place: "\(objectPath)layer-\(layers.count)", problem:
                "the checkpoint's \(path.isEmpty ? "model" : "nested model '\(path.joined(separator: "/"))'") has \(layerObjects) layer(s), the config only \(layers.count)"
                + (keys.isEmpty ? "" : " (the extra layer holds \(keys.prefix(3).joined(separator: ", "))\(keys.count > 3 ? ", ..." : ""))")
                + "; the config does not match the checkpoint")
        }
    }

    /// Throws when the variables `found` for a layer of a known class are not the ones its config
    /// makes it create (tf_keras names a DepthwiseConv2D's kernel `depthwise_kernel`).
    private func check(_ found: [KerasCheckpointVariable], of entry: KerasLayerEntry, layerPath: String, objectPath: String) throws {
        if case .opaque = KerasLayerMapper.op(className: entry.className, config: entry.config, dialect: .keras2) { return }
        guard var wanted = KerasLayerMapper.variableNames(className: entry.className, config: entry.config, count: found.count) else {
            // A layer bnconv models that creates no variables (ReLU, pooling, ...).
            if let extra = found.first {
                throw CheckpointError(.malformed, file: file, place: extra.key, problem:
                    "the checkpoint stores variables (\(found.map(\.name).joined(separator: ", "))) for layer '\(layerPath)', "
                    + "but the config's \(entry.className) layer has none; the config does not match the checkpoint")
            }
            return
        }
        if entry.className.hasPrefix("DepthwiseConv") {
            wanted = wanted.map { $0 == "kernel" ? "depthwise_kernel" : $0 }
        }
        let names = found.map { $0.name == "kernel" && entry.className.hasPrefix("DepthwiseConv") ? "depthwise_kernel" : $0.name }
        let holds = found.isEmpty ? "holds no variables" : "holds \(found.map(\.name).joined(separator: ", "))"
        if let missing = wanted.first(where: { !names.contains($0) }) {
            throw CheckpointError(.malformed, file: file, place: "\(objectPath)/\(missing)/.ATTRIBUTES/\(ProtobufTrackableObjectGraph.Object.variableValueName)", problem:
                "the config's \(entry.className) layer '\(layerPath)' needs '\(missing)', but the checkpoint has no such key "
                + "(its object for the layer \(holds)); the config does not match the checkpoint")
        }
        if let extra = found.first(where: { !wanted.contains($0.name == "kernel" && entry.className.hasPrefix("DepthwiseConv") ? "depthwise_kernel" : $0.name) }) {
            throw CheckpointError(.malformed, file: file, place: extra.key, problem:
                "the checkpoint stores '\(extra.name)' for layer '\(layerPath)', which the config's \(entry.className) layer does not create "
                + "(it creates \(wanted.joined(separator: ", "))); the config does not match the checkpoint")
        }
    }

    /// Throws when `node` is not an object of the graph.
    private func checkIndex(_ node: Int, place: String) throws {
        guard node >= 0, node < graph.objects.count else {
            throw CheckpointError(.malformed, file: file, place: place, problem:
                "the object graph names object \(node), but it has \(graph.objects.count) objects")
        }
    }

    /// The variables under object `node` (reached from a layer as `name`), each named by its path
    /// from the layer (`_query_dense/kernel`); each object once.
    private func subObjectVariables(_ node: Int, name: String, seen: inout Set<Int>) -> [KerasCheckpointVariable] {
        var out: [KerasCheckpointVariable] = []
        var todo = [(node, name)]
        while !todo.isEmpty {
            let (n, path) = todo.removeFirst()
            guard n >= 0, n < graph.objects.count else { continue }
            if let value = graph.objects[n].variableValue {
                out.append(KerasCheckpointVariable(name: path, fullName: value.fullName, key: value.checkpointKey))
            }
            for c in graph.objects[n].children where seen.insert(c.node).inserted {
                todo.append((c.node, path + "/" + c.name))
            }
        }
        return out
    }

    /// Whether object `node` (an index checked or not) holds a variable's value itself.
    private func ownsValue(_ node: Int) -> Bool {
        node >= 0 && node < graph.objects.count && graph.objects[node].variableValue != nil
    }

    /// Whether object `node` or an object under it saved a tensor.
    func holdsValues(_ node: Int) -> Bool {
        !valueKeys(under: node).isEmpty
    }

    /// The checkpoint keys saved by object `node` and the objects under it (each object once).
    func valueKeys(under node: Int) -> [String] {
        var seen = Set<Int>(), todo = [node], keys: [String] = []
        while let n = todo.popLast() {
            guard n >= 0, n < graph.objects.count, seen.insert(n).inserted else { continue }
            keys += graph.objects[n].attributes.map(\.checkpointKey)
            todo += graph.objects[n].children.map(\.node).reversed()
        }
        return keys
    }
}
