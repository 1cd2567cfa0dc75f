import BNConvCore
import BNConvModel
import BNConvInterop

/// A Keras model config (`Functional`, `Model` or `Sequential`) parsed into its layers and their
/// calls; a nested model used as a layer is a nested container.
struct KerasContainer: Sendable {
    /// The model's name.
    var name: String
    /// `Functional`, `Model` or `Sequential`.
    var className: String
    /// Whether the layers form a chain (Sequential) rather than a graph.
    var isSequential: Bool
    /// Whether a Sequential config was the pre-2.2.3 bare list of layers.
    var isBareList: Bool
    /// The layers in config order.
    var layers: [KerasLayerEntry]
    /// The model inputs (Functional).
    var inputs: [KerasTensorRef]
    /// The model outputs (Functional).
    var outputs: [KerasTensorRef]

    /// Whether a class name is a model that can be a nested container.
    static func isModelClass(_ className: String) -> Bool {
        ["Functional", "Model", "Sequential"].contains(className)
    }

    /// Parses a `{"class_name": ..., "config": ...}` model object.
    init(model: JSONValue, place: String) throws {
        guard let className = model["class_name"]?.stringValue, let config = model["config"] else {
            throw KerasConfigError(place: place, problem: "expected an object with 'class_name' and 'config'")
        }
        guard KerasContainer.isModelClass(className) else {
            throw KerasConfigError(place: place, problem: "the model class '\(className)' is not Functional, Model or Sequential")
        }
        self.className = className
        isSequential = className == "Sequential"
        isBareList = config.arrayValue != nil
        let layerList: [JSONValue]
        if let list = config.arrayValue {
            layerList = list
            name = "sequential"
        } else {
            guard let list = config["layers"]?.arrayValue else {
                throw KerasConfigError(place: place, problem: "the model config has no 'layers' list")
            }
            layerList = list
            name = config["name"]?.stringValue ?? "model"
        }
        layers = []
        for (index, entry) in layerList.enumerated() {
            layers.append(try KerasLayerEntry(entry, index: index, place: "\(place)/layers[\(index)]"))
        }
        inputs = KerasContainer.refs(config["input_layers"])
        outputs = KerasContainer.refs(config["output_layers"])
    }

    /// Reads `input_layers`/`output_layers`: a flat triple (Keras 3, one tensor) or a list of triples.
    static func refs(_ value: JSONValue?) -> [KerasTensorRef] {
        guard let value else { return [] }
        if let single = KerasTensorRef(value) { return [single] }
        var out: [KerasTensorRef] = []
        func walk(_ v: JSONValue) {
            if let r = KerasTensorRef(v) { out.append(r); return }
            if let items = v.arrayValue { items.forEach(walk) }
            if let object = v.objectValue { object.members.forEach { walk($0.value) } }
        }
        walk(value)
        return out
    }
}

/// One layer entry of a model config.
struct KerasLayerEntry: Sendable {
    /// The layer's name.
    var name: String
    /// Its class name (`Conv2D`, ...).
    var className: String
    /// Its `config` object.
    var config: JSONObject
    /// Per call (inbound node), the Keras tensors it reads, flattened in argument order.
    var calls: [[KerasTensorRef]]
    /// Per call, the inbound node as written (a TFOpLambda's constants and keyword arguments).
    var callData: [JSONValue]
    /// Per call, the shapes Keras recorded for its tensors (Keras 3 `__keras_tensor__` shapes).
    var callShapes: [[[Int?]?]]
    /// The nested model, when the layer is a Functional/Sequential model.
    var nested: KerasContainer?
    /// Its position in the container's `layers` list.
    var index: Int

    /// Parses a layer entry.
    init(_ entry: JSONValue, index: Int, place: String) throws {
        guard let className = entry["class_name"]?.stringValue, let config = entry["config"]?.objectValue else {
            throw KerasConfigError(place: place, problem: "a layer entry needs 'class_name' and a 'config' object")
        }
        self.className = className
        self.config = config
        self.index = index
        guard let name = entry["name"]?.stringValue ?? config["name"]?.stringValue else {
            throw KerasConfigError(place: place, problem: "the layer has no name")
        }
        self.name = name
        let inbound = entry["inbound_nodes"]?.arrayValue ?? []
        calls = inbound.map(KerasLayerEntry.tensors(inCall:))
        callData = inbound
        callShapes = inbound.map(KerasLayerEntry.shapes(inCall:))
        if let first = entry["build_config"]?["input_shape"], !callShapes.isEmpty, let shapes = KerasLayerEntry.shapeList(first),
           shapes.count == calls[0].count {
            callShapes[0] = zip(callShapes[0], shapes).map { $0 ?? $1 }
        }
        nested = KerasContainer.isModelClass(className) ? try KerasContainer(model: entry, place: place) : nil
        if nested != nil { nested!.name = name }
    }

    /// A shape `[null, 8, 8, 3]` (`null` = unknown).
    static func shape(_ value: JSONValue?) -> [Int?]? {
        guard let items = value?.arrayValue else { return nil }
        var out: [Int?] = []
        for item in items {
            if item.isNull { out.append(nil) } else if let i = item.intValue { out.append(i) } else { return nil }
        }
        return out
    }

    /// One shape or a list of shapes (`build_config.input_shape`).
    static func shapeList(_ value: JSONValue) -> [[Int?]?]? {
        if let one = shape(value) { return [one] }
        guard let items = value.arrayValue else { return nil }
        return items.map { shape($0) }
    }

    /// The recorded shapes of a call's Keras tensors (Keras 3 only; `nil` entries otherwise).
    static func shapes(inCall call: JSONValue) -> [[Int?]?] {
        guard let args = call["args"] else { return tensors(inCall: call).map { _ in nil } }
        var out: [[Int?]?] = []
        func walk(_ v: JSONValue) {
            if v["class_name"]?.stringValue == "__keras_tensor__", v["config"]?["keras_history"] != nil {
                out.append(shape(v["config"]?["shape"]))
                return
            }
            if let items = v.arrayValue { items.forEach(walk) }
        }
        walk(args)
        return out
    }

    /// The Keras tensors of one inbound node, in either dialect (Keras 2: ``KerasCallArguments``
    /// order, keyword-argument tensors included).
    static func tensors(inCall call: JSONValue) -> [KerasTensorRef] {
        if let args = call["args"] {
            var out: [KerasTensorRef] = []
            func walk(_ v: JSONValue) {
                if v["class_name"]?.stringValue == "__keras_tensor__",
                   let history = v["config"]?["keras_history"], let r = KerasTensorRef(history) {
                    out.append(r)
                    return
                }
                if let items = v.arrayValue { items.forEach(walk) }
            }
            walk(args)
            return out
        }
        return KerasCallArguments.refs(inCall: call)
    }
}

/// A problem in a Keras config: where (a JSON path) and what.
struct KerasConfigError: Error, CustomStringConvertible {
    /// The JSON path (`model_config/layers[3]`).
    var place: String
    /// What is wrong.
    var problem: String
    /// `place: problem`.
    var description: String { "\(place): \(problem)" }
}
