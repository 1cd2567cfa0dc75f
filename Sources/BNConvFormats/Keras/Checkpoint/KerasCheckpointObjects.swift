import BNConvCore
import BNConvModel
import BNConvInterop

/// The object graph and tensors of Keras TF-format weights written from a model (for a checkpoint
/// that cannot be copied from the one read: an `.h5` converted, or a fold that removed layers),
/// laid out as tf_keras `save_weights` lays out the objects of the model `model_from_json` rebuilds
/// from the same config, so that `load_weights` finds every variable.
///
/// The root's children are the layers in `model.layers` order (``KerasLayerOrder``; a Sequential's
/// without its InputLayer): `layer_with_weights-N` then `layer-M` for a layer with weights, `layer-M`
/// alone otherwise, both naming the layer's object. A layer's object has one child per variable
/// under the name tf_keras gives it (`kernel`, `depthwise_kernel`, `gamma`, ...), each holding a
/// `VARIABLE_VALUE` attribute; a nested model's object holds its own layers the same way. Objects
/// are numbered breadth first from the root and each key is the object's first path in that order
/// plus `/.ATTRIBUTES/VARIABLE_VALUE` (`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`),
/// as TensorFlow makes them; the tensors are stored in that order too.
///
/// Nothing of an optimizer is written: its slots follow the variables of the model it trained.
struct KerasCheckpointObjects {
    /// The object graph (breadth-first numbering, node 0 the root).
    private(set) var graph = ProtobufTrackableObjectGraph(objects: [])
    /// The variables' tensors by checkpoint key, in breadth-first order.
    private(set) var tensors: [(key: String, tensor: Tensor)] = []

    /// An object before numbering: its children by local name and, for a variable, its full name
    /// and value.
    private struct Draft {
        /// (local name, draft index).
        var children: [(name: String, node: Int)] = []
        /// The variable's full name and value.
        var value: (fullName: String, tensor: Tensor)?
    }

    /// The drafts, root first.
    private var drafts = [Draft()]
    /// The edits, for each layer's node.
    private let edits: KerasModelEdits

    /// Lays out the layers of `container` (the architecture as it will be written) with the
    /// weights of the nodes `edits` holds.
    init(container: KerasContainer, edits: KerasModelEdits) throws {
        self.edits = edits
        try add(container, at: 0, path: [])
        number()
    }

    /// Adds `container`'s layers as children of draft `object`.
    private mutating func add(_ container: KerasContainer, at object: Int, path: [String]) throws {
        var withWeights = 0
        for (m, entry) in KerasCheckpointKeys.modelLayers(of: container).enumerated() {
            let layerObject = drafts.count
            drafts.append(Draft())
            if let nested = entry.nested {
                try add(nested, at: layerObject, path: path + [entry.name])
            } else if let node = edits.nodesByLayer[(path + [entry.name]).joined(separator: "/")] {
                if case .opaque = node.op, let sub = try Self.variables(of: node, className: entry.className).first(where: {
                    $0.name.contains("/") || $0.fullName.split(separator: "/").count > 2
                }) {
                    // A layer bnconv does not model whose variables belong to sub-layers: tf_keras tracks
                    // them under the sub-layers' objects, which bnconv does not know, and would leave
                    // them unrestored without a word.
                    throw KerasConfigError(place: node.name, problem:
                        "the \(entry.className) layer keeps variables in sub-layers ('\(sub.fullName)'), which bnconv cannot lay out as tf_keras does; write an .h5 instead")
                }
                for variable in try Self.variables(of: node, className: entry.className) {
                    guard !drafts[layerObject].children.contains(where: { $0.name == variable.name }) else {
                        throw KerasConfigError(place: node.name, problem: "two weights of the layer would both be saved as '\(variable.name)'")
                    }
                    drafts[layerObject].children.append((variable.name, drafts.count))
                    drafts.append(Draft(value: (variable.fullName, variable.tensor)))
                }
            }
            if holdsValues(layerObject) {
                drafts[object].children.append(("layer_with_weights-\(withWeights)", layerObject))
                withWeights += 1
            }
            drafts[object].children.append(("layer-\(m)", layerObject))
        }
    }

    /// Whether draft `index` or a draft under it holds a value (drafts form a tree here).
    private func holdsValues(_ index: Int) -> Bool {
        drafts[index].value != nil || drafts[index].children.contains { holdsValues($0.node) }
    }

    /// Numbers the drafts breadth first and makes the graph and the keyed tensors.
    private mutating func number() {
        var order = [0], paths = [""], ids = [0: 0]
        var next = 0
        while next < order.count {
            let draft = drafts[order[next]]
            for child in draft.children where ids[child.node] == nil {
                ids[child.node] = order.count
                order.append(child.node)
                paths.append(paths[next].isEmpty ? child.name : paths[next] + "/" + child.name)
            }
            next += 1
        }
        var objects: [ProtobufTrackableObjectGraph.Object] = []
        for (id, index) in order.enumerated() {
            let draft = drafts[index]
            var attributes: [ProtobufTrackableObjectGraph.Attribute] = []
            if let value = draft.value {
                let key = paths[id] + "/.ATTRIBUTES/" + ProtobufTrackableObjectGraph.Object.variableValueName
                attributes.append(.init(name: ProtobufTrackableObjectGraph.Object.variableValueName, fullName: value.fullName, checkpointKey: key))
                tensors.append((key, value.tensor))
            }
            objects.append(.init(children: draft.children.map { .init(node: ids[$0.node]!, name: $0.name) }, attributes: attributes,
                                 hasCheckpointValues: holdsValues(index)))
        }
        graph = ProtobufTrackableObjectGraph(objects: objects)
    }

    /// The variables of a layer's node as tf_keras names them: the local name the layer gives
    /// `add_weight` (a DepthwiseConv2D's kernel is `depthwise_kernel`, a SeparableConv2D's kernels
    /// `depthwise_kernel` and `pointwise_kernel`; otherwise the variable part of the stored name, or
    /// the role of a weight a pass created) and the full name (the stored name without `:0`, or
    /// `<layer>/<local name>` for a new weight).
    static func variables(of node: Node, className: String) throws -> [KerasCheckpointVariableValue] {
        guard let record = node.source as? KerasLayerRecord else { return [] }
        return KerasLayerRecord.storedWeights(of: node).map { weight in
            let stored = weight.storageKey.isEmpty ? nil : record.storedNames[weight.role.rawValue]
            let name: String
            if className.hasPrefix("DepthwiseConv") && weight.role == .kernel || weight.role == .depthwiseKernel {
                name = "depthwise_kernel"
            } else if weight.role == .pointwiseKernel {
                name = "pointwise_kernel"
            } else {
                name = stored.map(KerasStoredVariable.variableName(fromStoredName:)) ?? weight.role.rawValue
            }
            let fullName = stored.map { s in
                let last = s.split(separator: "/").last.map(String.init) ?? s
                return last.contains(":") ? String(s[..<s.lastIndex(of: ":")!]) : s
            } ?? "\(record.layerName)/\(name)"
            return KerasCheckpointVariableValue(name: name, fullName: fullName, tensor: weight.tensor)
        }
    }
}
