import BNConvCore
import BNConvModel
import BNConvInterop

/// The layout-dependent keys of a Keras layer config, rewritten from a node's op after
/// ``ConvertLayout``: `data_format` of every layer whose op carries a layout, the BN /
/// Concatenate / Softmax / Normalization `axis` (in the type the file wrote it: a Keras 2 BN
/// writes `[3]`, Keras 3 `-1`), and declared shapes (`batch_shape`, `batch_input_shape`,
/// `build_config.input_shape`, keras tensor `shape`s). A key is only touched when its meaning
/// changed; every other key stays as written.
enum KerasLayoutConfig {
    /// Rewrites `config` for `node` (whose input shapes are `inputShapes`).
    static func apply(to config: inout JSONObject, node: Node, inputShapes: [[Int?]?]) {
        let rank = inputShapes.first??.count
        switch node.op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c):
            setDataFormat(&config, c.layout)
        case .pool(let p):
            setDataFormat(&config, p.layout)
        case .globalPool(let g):
            setDataFormat(&config, g.layout)
        case .pad(_, let layout), .crop(_, let layout), .upsample(_, _, let layout):
            setDataFormat(&config, layout)
        case .batchNorm(let bn):
            setAxes(&config, [bn.axis], rank: rank)
        case .concat(let axis):
            setAxes(&config, [axis], rank: rank)
        case .softmax(let axis):
            setAxes(&config, [axis], rank: rank)
        case .normalization(let axes):
            if config["axis"]?.isNull != true { setAxes(&config, axes, rank: rank) }
        case .reshape(let target):
            // A vector reshaped to a spatial value moved to the new layout (squeeze-excite).
            if let old = config["target_shape"]?.arrayValue?.compactMap(\.intValue), old != target {
                config["target_shape"] = .array(target.map(JSONValue.integer))
            }
        default:
            break
        }
    }

    /// `data_format` set to the op's layout (added only when it is not the Keras default).
    private static func setDataFormat(_ config: inout JSONObject, _ layout: DataLayout) {
        let text = layout == .channelsFirst ? "channels_first" : "channels_last"
        if config["data_format"] != nil || layout == .channelsFirst { config["data_format"] = .string(text) }
    }

    /// `axis` set to `axes` when it resolves differently, keeping the written form (list or int).
    private static func setAxes(_ config: inout JSONObject, _ axes: [Int], rank: Int?) {
        let old = config["axis"]
        let oldAxes = old?.arrayValue?.compactMap(\.intValue) ?? old?.intValue.map { [$0] }
        if let rank, let oldAxes, oldAxes.map({ Op.resolveAxis($0, rank: rank) }) == axes.map({ Op.resolveAxis($0, rank: rank) }) {
            return
        }
        let resolved = axes.map { a in rank.map { r in Op.resolveAxis(a, rank: r) } ?? a }
        if old?.arrayValue != nil || resolved.count != 1 {
            config["axis"] = .array(resolved.map(JSONValue.integer))
        } else {
            config["axis"] = .integer(resolved[0])
        }
    }

    /// A declared shape rewritten to `shape`: the batch entry kept as written, unknown entries `null`.
    /// `old` is returned unchanged when its rank differs.
    static func shape(_ old: JSONValue?, _ shape: [Int?]?) -> JSONValue? {
        guard let shape, let items = old?.arrayValue, items.count == shape.count,
              items.allSatisfy({ $0.isNull || $0.intValue != nil }) else { return old }
        return .array(items.indices.map { i in
            if i == 0 { return items[0] }
            return shape[i].map(JSONValue.integer) ?? .null
        })
    }

    /// A `build_config.input_shape` rewritten for inputs of shapes `shapes` (one shape or a list).
    static func buildShape(_ old: JSONValue?, _ shapes: [[Int?]?]) -> JSONValue? {
        guard let items = old?.arrayValue else { return old }
        if let first = items.first, first.arrayValue != nil {
            guard items.count == shapes.count else { return old }
            return .array(zip(items, shapes).map { shape($0, $1) ?? $0 })
        }
        guard shapes.count == 1 else { return old }
        return shape(old, shapes[0])
    }

    /// A new `Permute` layer entry in the container's dialect, reading `input` (Functional) of
    /// shape `inputShape`; `dtype` is copied from a neighbouring layer's config.
    static func permuteEntry(name: String, dims: [Int], dialect: KerasDialect, functional: Bool, dtype: JSONValue?,
                             input: KerasTensorRef, inputShape: [Int?]?, tensorDType: JSONValue?) -> JSONValue {
        var config = JSONObject()
        config["name"] = .string(name)
        config["trainable"] = .bool(true)
        config["dtype"] = dtype ?? .string("float32")
        config["dims"] = .array(dims.map(JSONValue.integer))
        let shapeJSON: JSONValue = inputShape.map { s in .array(s.enumerated().map { i, d in i == 0 ? .null : d.map(JSONValue.integer) ?? .null }) } ?? .null
        var entry = JSONObject()
        entry["module"] = .string("keras.layers")
        entry["class_name"] = .string("Permute")
        entry["config"] = .object(config)
        entry["registered_name"] = .null
        if inputShape != nil {
            var build = JSONObject()
            build["input_shape"] = shapeJSON
            entry["build_config"] = .object(build)
        }
        guard functional else { return .object(entry) }
        entry["name"] = .string(name)
        switch dialect {
        case .keras2:
            entry["inbound_nodes"] = .array([.array([.array([.string(input.layer), .integer(input.node), .integer(input.tensor), .object(JSONObject())])])])
        case .keras3:
            var tensorConfig = JSONObject()
            tensorConfig["shape"] = shapeJSON
            tensorConfig["dtype"] = tensorDType ?? .string("float32")
            tensorConfig["keras_history"] = input.json
            var tensor = JSONObject()
            tensor["class_name"] = .string("__keras_tensor__")
            tensor["config"] = .object(tensorConfig)
            var call = JSONObject()
            call["args"] = .array([.object(tensor)])
            call["kwargs"] = .object(JSONObject())
            entry["inbound_nodes"] = .array([.object(call)])
        }
        return .object(entry)
    }
}
