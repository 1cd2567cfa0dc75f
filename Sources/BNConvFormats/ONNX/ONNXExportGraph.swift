import BNConvCore
import BNConvModel
import BNConvInterop

/// The ONNX graph the exporter is building: nodes, initializers, unique names, and the lowest
/// opset the ops used so far need.
struct ONNXExportGraph {
    /// Nodes in topological order.
    private(set) var nodes: [ONNXProto.Node] = []
    /// Initializers (stored as `raw_data`).
    private(set) var initializers: [ONNXProto.Tensor] = []
    /// The lowest default-domain opset every emitted op exists in.
    private(set) var opset: Int
    /// Tensor names in use.
    private var tensorNames: NameAllocator
    /// Node names in use.
    private var nodeNames = NameAllocator()

    /// Starts an empty graph whose tensor names must avoid `taken` (the model's value names).
    init(baseOpset: Int, taken: Set<String>) {
        opset = baseOpset
        tensorNames = NameAllocator(taken: taken)
    }

    /// A tensor name: `base`, or `base_1`, `base_2`, ... whichever is free; the name is then taken.
    mutating func unique(_ base: String) -> String {
        tensorNames.claim(base)
    }

    /// Adds `tensor` (loaded) as an initializer named after `base`; returns its name.
    mutating func constant(_ base: String, _ tensor: Tensor) -> String {
        let name = unique(base)
        constant(named: name, tensor)
        return name
    }

    /// Adds `tensor` (loaded) as an initializer named `name` exactly: a value of the model that a
    /// constant gives (a TensorFlow Const), which no other tensor of the graph may be named.
    mutating func constant(named name: String, _ tensor: Tensor) {
        tensorNames.reserve(name)
        initializers.append(ONNXProto.Tensor(name: name, dataType: ONNXTensorCodec.dataType(of: tensor.dtype),
                                             dims: tensor.shape.map(Int64.init), rawData: tensor.bytes))
    }

    /// A 1-D int64 initializer (Reshape shapes, Pad pads).
    mutating func int64s(_ base: String, _ values: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
        // The bytes are built here, so the shape and size always agree.
        return constant(base, try! Tensor(dtype: .int64, shape: [values.count], bytes: bytes))
    }

    /// A scalar float initializer of `dtype` (Clip bounds).
    mutating func scalar(_ base: String, _ value: Double, dtype: DType) -> String {
        constant(base, Tensor(shape: [], doubles: [value], dtype: dtype))
    }

    /// Appends a default-domain node; `since` is the opset that introduced its current form.
    mutating func add(_ opType: String, name: String, inputs: [String], outputs: [String],
                      attributes: [ONNXProto.Attribute] = [], since: Int = 1) {
        opset = max(opset, since)
        nodes.append(ONNXProto.Node(name: nodeNames.claim(name), opType: opType, domain: "", inputs: inputs, outputs: outputs,
                                    attributes: attributes))
    }

    /// Renames the tensor `old` to `new` in every node's inputs and outputs (`new` must be free or
    /// freed by an earlier rename).
    mutating func rename(_ old: String, to new: String) {
        tensorNames.reserve(new)
        for i in nodes.indices {
            nodes[i].inputs = nodes[i].inputs.map { $0 == old ? new : $0 }
            nodes[i].outputs = nodes[i].outputs.map { $0 == old ? new : $0 }
        }
        for i in initializers.indices where initializers[i].name == old { initializers[i].name = new }
    }

    /// An INT attribute.
    static func int(_ name: String, _ value: Int) -> ONNXProto.Attribute {
        ONNXProto.Attribute(name: name, type: ONNXProto.AttributeType.int, i: Int64(value))
    }

    /// An INTS attribute.
    static func ints(_ name: String, _ values: [Int]) -> ONNXProto.Attribute {
        ONNXProto.Attribute(name: name, type: ONNXProto.AttributeType.ints, ints: values.map(Int64.init))
    }

    /// A FLOAT attribute (stored as float32, as ONNX does).
    static func float(_ name: String, _ value: Double) -> ONNXProto.Attribute {
        ONNXProto.Attribute(name: name, type: ONNXProto.AttributeType.float, f: Float(value))
    }

    /// A STRING attribute (UTF-8).
    static func string(_ name: String, _ value: String) -> ONNXProto.Attribute {
        ONNXProto.Attribute(name: name, type: ONNXProto.AttributeType.string, s: Array(value.utf8))
    }
}
