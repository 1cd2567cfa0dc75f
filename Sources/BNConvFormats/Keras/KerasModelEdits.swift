import BNConvCore
import BNConvModel
import BNConvInterop

/// The model's ``ModelChanges`` mapped onto a Keras file, as the writers need them: which layers
/// are gone, how a removed layer's output maps to the value that replaced it, the live nodes by
/// layer path, and the inserted transposes as new `Permute` layers.
struct KerasModelEdits {
    /// The model being written.
    let model: Model
    /// Its file record.
    let record: KerasModelRecord
    /// What passes changed since the file was read.
    let changes: ModelChanges
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
    /// What changed in each node of the edited model, by node name.
    let nodeChanges: [String: ModelChanges.NodeChange]

    /// Maps `changes` (the changes of `model`) onto the file; throws when a node was created or
    /// removed in a way Keras cannot express.
    init(model: Model, record: KerasModelRecord, changes: ModelChanges) throws {
        self.model = model
        self.record = record
        self.changes = changes
        var byLayer: [String: Node] = [:]
        var byCall: [String: [Int: Node]] = [:]
        var liveLayers = Set<String>()
        var created: [Node] = []
        var nodeChanges: [String: ModelChanges.NodeChange] = [:]
        for change in changes.nodes {
            let node = model.nodes[change.index]
            nodeChanges[node.name] = change
            guard !change.isCreated, let r = node.source as? KerasLayerRecord else {
                if change.isCreated, case .permute = node.op {
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
        self.nodeChanges = nodeChanges
        nodesByCall = byCall
        shapes = ShapeInference.shapes(of: model)
        var removed = Set<String>()
        var subs: [String: String] = [:]
        for node in changes.removed {
            let layer = node.name.split(separator: "#").first.map(String.init) ?? node.name
            if !liveLayers.contains(layer) { removed.insert(layer) }
            guard node.inputs.count == 1, node.outputs.count == 1 else {
                throw KerasConfigError(place: node.name, problem: "a removed layer with \(node.inputs.count) inputs and \(node.outputs.count) outputs cannot be bypassed")
            }
            subs[node.outputs[0]] = node.inputs[0]
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

    /// The values `node` read in the file (`nil` for a node a pass created).
    func inputsAsRead(of node: Node) -> [String]? {
        changes.asRead.node(for: node)?.inputs
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
