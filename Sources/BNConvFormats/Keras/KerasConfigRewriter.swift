import BNConvCore
import BNConvModel
import BNConvInterop

/// Rewrites a Keras model config for an edited Model: removed layers dropped (Sequential and
/// Functional), references to them rewired in the file's own dialect (Keras 2 `[name, n, t, {}]`,
/// Keras 3 `keras_history`), `use_bias: true` where a pass added a bias, layout keys and declared
/// shapes after a layout conversion (``KerasLayoutConfig``), and transposes a pass inserted written
/// as new `Permute` layers with their readers rewired to them. Every other key and number stays as
/// written.
struct KerasConfigRewriter {
    /// The edits to apply.
    let edits: KerasModelEdits

    /// The rewritten top-level model object.
    func rewrite(_ model: JSONValue) throws -> JSONValue {
        try rewriteModel(model, path: [])
    }

    private func rewriteModel(_ model: JSONValue, path: [String]) throws -> JSONValue {
        guard var object = model.objectValue, let config = object["config"] else { return model }
        let sequential = object["class_name"]?.stringValue == "Sequential"
        if let list = config.arrayValue {
            object["config"] = .array(try rewriteLayers(list, path: path, functional: false))
            return .object(object)
        }
        guard var configObject = config.objectValue, let layers = configObject["layers"]?.arrayValue else { return model }
        configObject["layers"] = .array(try rewriteLayers(layers, path: path, functional: !sequential))
        if !sequential, let outputs = configObject["output_layers"] {
            var rewritten = outputs
            if path.isEmpty {
                // Outputs a pass moved (a transpose inserted before them) point at their new layer.
                let values = edits.model.outputs
                rewritten = try replacingRefs(in: rewritten, keras3: false) { k, old in
                    guard values.count == KerasContainer.refs(outputs).count, k < values.count,
                          let was = edits.value(of: old, in: path), edits.resolve(was) != edits.resolve(values[k]) else { return old }
                    return try currentRef(values[k], path: path, place: "output_layers")
                }
            }
            configObject["output_layers"] = try rewriteRefs(rewritten, path: path)
        }
        // Declared input shapes of the container itself (a nested one's too: Keras rebuilds a nested
        // Sequential from them and refuses a tensor of another shape).
        let inputShapes = containerInputs(layers: layers, config: configObject, path: path, sequential: sequential).map { edits.shapes[$0] }
        if !inputShapes.isEmpty, inputShapes.allSatisfy({ $0 != nil }) {
            if configObject["build_input_shape"]?.arrayValue != nil {
                configObject["build_input_shape"] = KerasLayoutConfig.buildShape(configObject["build_input_shape"], inputShapes)
            }
            if var build = object["build_config"]?.objectValue, build["input_shape"]?.arrayValue != nil {
                build["input_shape"] = KerasLayoutConfig.buildShape(build["input_shape"], inputShapes)
                object["build_config"] = .object(build)
            }
        }
        object["config"] = .object(configObject)
        return .object(object)
    }

    /// The values a container's inputs are in the edited model: the model's inputs at the top; a
    /// nested Functional model's `input_layers`; a nested Sequential's InputLayer, or the value its
    /// first layer read.
    private func containerInputs(layers: [JSONValue], config: JSONObject, path: [String], sequential: Bool) -> [String] {
        if path.isEmpty { return edits.model.inputs }
        if !sequential {
            let refs = KerasContainer.refs(config["input_layers"])
            let values = refs.compactMap { edits.value(of: $0, in: path) }
            return values.count == refs.count ? values : []
        }
        return sequentialInput(layers, path: path).map { [$0] } ?? []
    }

    /// The value a Sequential container in `path` reads: its InputLayer's, or its first layer's input.
    private func sequentialInput(_ layers: [JSONValue], path: [String]) -> String? {
        for layer in layers {
            guard let name = layer["name"]?.stringValue ?? layer["config"]?["name"]?.stringValue else { continue }
            if layer["class_name"]?.stringValue == "InputLayer" {
                return edits.value(of: KerasTensorRef(layer: name, node: 0, tensor: 0), in: path)
            }
            let node = edits.nodesByCall[(path + [name]).joined(separator: "/")]?[0]
            return node.flatMap(edits.inputsAsRead(of:))?.first.map(edits.resolve)
        }
        return nil
    }

    /// The reference for `value` in container `path`, or an error naming `place`.
    private func currentRef(_ value: String, path: [String], place: String) throws -> KerasTensorRef {
        guard let ref = edits.currentRef(to: value, in: path) else {
            throw KerasConfigError(place: place, problem: "the value '\(value)' has no name in this model's config")
        }
        return ref
    }

    /// The value a (rewritten) reference in container `path` stands for.
    private func value(of ref: KerasTensorRef, path: [String]) -> String? {
        if let layer = edits.permutes.layer(named: ref.layer), layer.containerPath == path { return layer.node.outputs[0] }
        return edits.value(of: ref, in: path).map(edits.resolve)
    }

    /// New `Permute` layer entries that follow `anchor` in container `path` (and those that follow them).
    private func permuteEntries(after anchor: String?, path: [String], functional: Bool, template: JSONObject?) throws -> [JSONValue] {
        var out: [JSONValue] = []
        for layer in edits.permutes.layers(after: anchor, in: path) {
            guard case .permute(let dims) = layer.node.op else { continue }
            let input = layer.node.inputs[0]
            let ref = try currentRef(input, path: path, place: layer.name)
            let tensorDType = template?["inbound_nodes"]?[0]?["args"]?[0]?["config"]?["dtype"]
            out.append(KerasLayoutConfig.permuteEntry(name: layer.name, dims: dims, dialect: edits.record.dialect, functional: functional,
                                                      dtype: template?["config"]?["dtype"], input: ref, inputShape: edits.shapes[input],
                                                      tensorDType: tensorDType))
            out += try permuteEntries(after: layer.name, path: path, functional: functional, template: template)
        }
        return out
    }

    private func rewriteLayers(_ layers: [JSONValue], path: [String], functional: Bool) throws -> [JSONValue] {
        let names = Set(layers.compactMap { $0["name"]?.stringValue ?? $0["config"]?["name"]?.stringValue })
        // A neighbouring layer whose dtype and tensor dtype new Permute layers copy.
        let template = layers.first { $0["class_name"]?.stringValue != "InputLayer" && $0["config"]?["dtype"] != nil }?.objectValue
        var out: [JSONValue] = []
        let orphans = edits.permutes.layers.filter { $0.containerPath == path && !($0.anchor.map(names.contains) ?? false)
            && edits.permutes.layer(named: $0.anchor ?? "") == nil }
        if !orphans.isEmpty {
            guard !functional else {
                throw KerasConfigError(place: orphans[0].name, problem: "the inserted transpose reads a tensor no layer of its model writes")
            }
            if layers.first?["class_name"]?.stringValue != "InputLayer" {
                throw KerasConfigError(place: orphans[0].name, problem: "a transpose before the first layer of a Sequential model without an InputLayer cannot be written")
            }
        }
        out += try permuteEntries(after: nil, path: path, functional: functional, template: template)
        for layer in layers {
            guard var entry = layer.objectValue,
                  let name = entry["name"]?.stringValue ?? entry["config"]?["name"]?.stringValue else {
                out.append(layer)
                continue
            }
            let layerPath = (path + [name]).joined(separator: "/")
            if edits.removedLayers.contains(layerPath) { continue }
            let className = entry["class_name"]?.stringValue ?? ""
            if KerasContainer.isModelClass(className) {
                let rewritten = try rewriteModel(layer, path: path + [name])
                entry = rewritten.objectValue ?? entry
            } else if var config = entry["config"]?.objectValue {
                let node = edits.nodesByCall[layerPath]?[0]
                if let node, opUsesBias(node.op), config["use_bias"]?.boolValue == false {
                    config["use_bias"] = .bool(true)
                }
                if className == "InputLayer" {
                    let value = node?.outputs.first ?? edits.value(of: KerasTensorRef(layer: name, node: 0, tensor: 0), in: path)
                    for key in ["batch_shape", "batch_input_shape"] where config[key] != nil {
                        config[key] = KerasLayoutConfig.shape(config[key], value.flatMap { edits.shapes[$0] })
                    }
                } else if let node {
                    let inputShapes = node.inputs.map { edits.shapes[$0] }
                    if !functional, let first = edits.inputsAsRead(of: node)?.first {
                        // A Sequential without an InputLayer declares its input on its first layer.
                        for key in ["batch_shape", "batch_input_shape"] where config[key] != nil {
                            config[key] = KerasLayoutConfig.shape(config[key], edits.shapes[edits.resolve(first)])
                        }
                    }
                    KerasLayoutConfig.apply(to: &config, node: node, inputShapes: inputShapes)
                    if !functional, var build = entry["build_config"]?.objectValue {
                        build["input_shape"] = KerasLayoutConfig.buildShape(build["input_shape"], inputShapes)
                        entry["build_config"] = .object(build)
                    }
                }
                entry["config"] = .object(config)
            }
            if functional, let inbound = entry["inbound_nodes"] {
                var calls: [JSONValue]
                if edits.record.dialect == .keras2 {
                    // Keyword-argument tensors (a TFOpLambda's `y`) are rewired as well.
                    calls = try (inbound.arrayValue ?? []).map { call in
                        try KerasCallArguments.replacingRefs(in: call) { _, ref in try edits.rewired(ref, in: path) }
                    }
                } else {
                    calls = try rewriteRefs(inbound, path: path).arrayValue ?? []
                }
                for (ci, call) in calls.enumerated() {
                    calls[ci] = try rewireCall(call, node: edits.nodesByCall[layerPath]?[ci], path: path)
                    if className == KerasOpLambdaMapper.className, let node = edits.nodesByCall[layerPath]?[ci] {
                        calls[ci] = try KerasOpLambdaConstants.written(into: calls[ci], node: node, config: entry["config"]?.objectValue ?? JSONObject(), edits: edits)
                    }
                }
                entry["inbound_nodes"] = .array(calls)
                if var build = entry["build_config"]?.objectValue, let first = calls.first {
                    let shapes = KerasLayerEntry.tensors(inCall: first).map { value(of: $0, path: path).flatMap { edits.shapes[$0] } }
                    build["input_shape"] = KerasLayoutConfig.buildShape(build["input_shape"], shapes)
                    entry["build_config"] = .object(build)
                }
            }
            out.append(.object(entry))
            out += try permuteEntries(after: name, path: path, functional: functional, template: template)
        }
        return out
    }

    /// One inbound node with its tensors pointed at what `node` reads now (a rewired input, an
    /// inserted Permute) and, in Keras 3, each keras tensor's `shape` set to its value's shape.
    private func rewireCall(_ call: JSONValue, node: Node?, path: [String]) throws -> JSONValue {
        let original = node.flatMap(edits.inputsAsRead(of:))
        let replace = { (k: Int, old: KerasTensorRef) throws -> KerasTensorRef in
            guard let node, let original, node.inputs.count == original.count, k < node.inputs.count,
                  edits.resolve(original[k]) != node.inputs[k] else { return old }
            return try currentRef(node.inputs[k], path: path, place: node.name)
        }
        if call["args"] == nil { return try KerasCallArguments.replacingRefs(in: call, replace) }
        return try replacingRefs(in: call, keras3: true, replace) { ref in value(of: ref, path: path).flatMap { edits.shapes[$0] } }
    }

    /// `value` with its k-th tensor reference (in ``KerasLayerEntry/tensors(inCall:)`` order)
    /// replaced by `replace(k, ref)`; Keras 3 keras tensors also get `shape(newRef)`.
    private func replacingRefs(in value: JSONValue, keras3: Bool, _ replace: (Int, KerasTensorRef) throws -> KerasTensorRef,
                               shape: ((KerasTensorRef) -> [Int?]?)? = nil) throws -> JSONValue {
        var k = 0
        func walk(_ v: JSONValue) throws -> JSONValue {
            if case .object(var object) = v, object["class_name"]?.stringValue == "__keras_tensor__",
               var config = object["config"]?.objectValue, let history = config["keras_history"], let ref = KerasTensorRef(history) {
                let new = try replace(k, ref)
                k += 1
                if new != ref { config["keras_history"] = new.json }
                if let shape, let s = shape(new) { config["shape"] = KerasLayoutConfig.shape(config["shape"], s) }
                object["config"] = .object(config)
                return .object(object)
            }
            if case .object(var object) = v, keras3, let args = object["args"] {
                object["args"] = try walk(args)
                return .object(object)
            }
            guard case .array(var items) = v else { return v }
            if !keras3, let ref = KerasTensorRef(v), items[0].stringValue != "_CONSTANT_VALUE", items.count == 3 || items[3].objectValue != nil {
                let new = try replace(k, ref)
                k += 1
                items[0] = .string(new.layer)
                items[1] = .integer(new.node)
                items[2] = .integer(new.tensor)
                return .array(items)
            }
            return .array(try items.map(walk))
        }
        return try walk(value)
    }

    private func opUsesBias(_ op: Op) -> Bool {
        switch op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.useBias
        case .dense(let d): return d.useBias
        default: return false
        }
    }

    /// Rewrites every tensor reference inside `value`: Keras 2 `[name, n, t, kwargs]` lists and
    /// triples, Keras 3 `__keras_tensor__` histories.
    private func rewriteRefs(_ value: JSONValue, path: [String]) throws -> JSONValue {
        switch value {
        case .object(var object):
            if object["class_name"]?.stringValue == "__keras_tensor__", var config = object["config"]?.objectValue,
               let history = config["keras_history"], let ref = KerasTensorRef(history) {
                let new = try edits.rewired(ref, in: path)
                if new != ref {
                    config["keras_history"] = new.json
                    object["config"] = .object(config)
                }
                return .object(object)
            }
            for i in object.members.indices {
                object.members[i].value = try rewriteRefs(object.members[i].value, path: path)
            }
            return .object(object)
        case .array(var items):
            if items.count >= 3, let ref = KerasTensorRef(value), items[0].stringValue != "_CONSTANT_VALUE",
               items.count == 3 || items[3].objectValue != nil {
                let new = try edits.rewired(ref, in: path)
                if new == ref { return value }
                items[0] = .string(new.layer)
                items[1] = .integer(new.node)
                items[2] = .integer(new.tensor)
                return .array(items)
            }
            return .array(try items.map { try rewriteRefs($0, path: path) })
        default:
            return value
        }
    }
}
