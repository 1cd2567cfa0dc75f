import BNConvCore
import BNConvModel
import BNConvInterop

/// What a pass changed in a Model read from a Keras file, as the writers need it: which layers are
/// gone, how a removed layer's output maps to the value that replaced it, and the live nodes by
/// layer path.
struct KerasModelEdits {
    /// The model being written.
    let model: Model
    /// Its file record.
    let record: KerasModelRecord
    /// Live nodes with a Keras record, by layer path (`inner_block/inner_conv`), first call.
    let nodesByLayer: [String: Node]
    /// Layer paths that were read but have no node anymore.
    let removedLayers: Set<String>
    /// A removed node's output -> the value its consumers now read (its input).
    let substitutions: [String: String]
    /// Live nodes with a Keras record, by layer path and call index.
    let nodesByCall: [String: [Int: Node]]
    /// Transposes a pass inserted (``ConvertLayout``), written as new `Permute` layers.
    let permutes: KerasInsertedPermutes
    /// Every value's shape in the edited model (for InputLayer shapes, `build_config`, keras tensors).
    let shapes: [String: [Int?]]

    /// Works out the edits; throws when a node was removed in a way Keras cannot express.
    init(model: Model, record: KerasModelRecord) throws {
        self.model = model
        self.record = record
        var byLayer: [String: Node] = [:]
        var byCall: [String: [Int: Node]] = [:]
        var liveLayers = Set<String>()
        var created: [Node] = []
        for node in model.nodes {
            guard let r = node.source as? KerasLayerRecord else {
                if case .permute = node.op {
                    created.append(node)
                    continue
                }
                throw KerasConfigError(place: node.name, problem: "the node (\(node.opName)) was created by a pass and is not a layer of the file; "
                                       + "only inserted transposes can be written as new Keras (Permute) layers")
            }
            let path = (r.containerPath + [r.layerName]).joined(separator: "/")
            liveLayers.insert(path)
            if r.callIndex == 0 { byLayer[path] = node }
            byCall[path, default: [:]][r.callIndex] = node
        }
        nodesByLayer = byLayer
        nodesByCall = byCall
        shapes = ShapeInference.shapes(of: model)
        let liveNames = Set(model.nodes.map(\.name))
        var removed = Set<String>()
        var subs: [String: String] = [:]
        for (name, io) in record.originalNodes where !liveNames.contains(name) {
            let layer = name.split(separator: "#").first.map(String.init) ?? name
            if !liveLayers.contains(layer) { removed.insert(layer) }
            guard io.inputs.count == 1, io.outputs.count == 1 else {
                throw KerasConfigError(place: name, problem: "a removed layer with \(io.inputs.count) inputs and \(io.outputs.count) outputs cannot be bypassed")
            }
            subs[io.outputs[0]] = io.inputs[0]
        }
        removedLayers = removed
        substitutions = subs
        permutes = try KerasInsertedPermutes(created: created, model: model, record: record)
    }

    /// The reference `containerPath`'s config uses for `value` in the edited model: an inserted
    /// `Permute` layer's output, or the value's own (removed layers followed back).
    func currentRef(to value: String, in containerPath: [String]) -> KerasTensorRef? {
        if let layer = permutes.layerName(writing: value), permutes.containerPath(of: layer) == containerPath {
            return KerasTensorRef(layer: layer, node: 0, tensor: 0)
        }
        return ref(to: resolve(value), in: containerPath)
    }

    /// The value that now stands for `value` (following removed layers back to their inputs).
    func resolve(_ value: String) -> String {
        var v = value
        var steps = 0
        while let next = substitutions[v], steps < 10_000 {
            v = next
            steps += 1
        }
        return v
    }

    /// The value a config reference in `containerPath` pointed at when read.
    func value(of ref: KerasTensorRef, in containerPath: [String]) -> String? {
        record.valueRefs.first { _, refs in refs.contains { $0.containerPath == containerPath && $0.ref == ref } }?.key
    }

    /// How `containerPath`'s config refers to `value`.
    func ref(to value: String, in containerPath: [String]) -> KerasTensorRef? {
        record.valueRefs[value]?.first { $0.containerPath == containerPath }?.ref
    }

    /// The reference that replaces `ref` once removed layers are bypassed (itself when untouched).
    func rewired(_ ref: KerasTensorRef, in containerPath: [String]) throws -> KerasTensorRef {
        let layerPath = (containerPath + [ref.layer]).joined(separator: "/")
        guard removedLayers.contains(layerPath) else { return ref }
        guard let original = value(of: ref, in: containerPath) else {
            throw KerasConfigError(place: layerPath, problem: "the reference \(ref.layer)[\(ref.node)][\(ref.tensor)] was not seen when reading")
        }
        let now = resolve(original)
        guard let replacement = self.ref(to: now, in: containerPath) else {
            throw KerasConfigError(place: layerPath, problem: "the value '\(now)' that replaces the removed layer has no name in this model's config")
        }
        return replacement
    }
}
