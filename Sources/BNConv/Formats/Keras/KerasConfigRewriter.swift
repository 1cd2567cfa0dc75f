/// Rewrites a Keras model config for an edited Model: removed layers dropped (Sequential and
/// Functional), references to them rewired in the file's own dialect (Keras 2 `[name, n, t, {}]`,
/// Keras 3 `keras_history`), `use_bias: true` where a pass added a bias. Every other key and number
/// stays as written.
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
            configObject["output_layers"] = try rewriteRefs(outputs, path: path)
        }
        object["config"] = .object(configObject)
        return .object(object)
    }

    private func rewriteLayers(_ layers: [JSONValue], path: [String], functional: Bool) throws -> [JSONValue] {
        var out: [JSONValue] = []
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
            } else if let node = edits.nodesByLayer[layerPath], var config = entry["config"]?.objectValue {
                if opUsesBias(node.op), config["use_bias"]?.boolValue == false {
                    config["use_bias"] = .bool(true)
                    entry["config"] = .object(config)
                }
            }
            if functional, let inbound = entry["inbound_nodes"] {
                entry["inbound_nodes"] = try rewriteRefs(inbound, path: path)
            }
            out.append(.object(entry))
        }
        return out
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
