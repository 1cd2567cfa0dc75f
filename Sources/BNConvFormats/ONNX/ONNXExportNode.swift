import BNConvCore
import BNConvModel

/// One ONNX node the exporter is about to write, in the form of a given opset: its op type,
/// attributes by ONNX name, operands (graph values, constants that become initializers, or absent
/// optional inputs) and output names. Op-library nodes are turned into these, upgraded to the
/// graph's opset (``ONNXOpsetUpgrade``) and then written by the emitter.
struct ONNXExportNode {
    /// The node's name (made unique when written).
    var name: String
    /// The default-domain op type.
    var type: String
    /// The opset whose signature of `type` the attributes and operands follow.
    var opset: Int
    /// The attributes by ONNX name.
    var attributes: [String: OpAttribute]
    /// The operands by ONNX input position.
    var inputs: [ONNXExportOperand]
    /// The output tensor names.
    var outputs: [String]

    /// A node of `type` in opset `opset`'s form.
    init(_ type: String, name: String, opset: Int, inputs: [ONNXExportOperand], outputs: [String],
         attributes: [String: OpAttribute] = [:]) {
        self.name = name
        self.type = type
        self.opset = opset
        self.attributes = attributes
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The operand at `position`, `.absent` past the end.
    func input(_ position: Int) -> ONNXExportOperand {
        position < inputs.count ? inputs[position] : .absent
    }

    /// Sets the operand at `position`, padding with absent ones.
    mutating func setInput(_ position: Int, _ operand: ONNXExportOperand) {
        while inputs.count <= position { inputs.append(.absent) }
        inputs[position] = operand
    }

    /// Removes attribute `name` and returns its value as integers (an INT or INTS), when present.
    mutating func takeInts(_ name: String) -> [Int]? {
        defer { attributes[name] = nil }
        switch attributes[name] {
        case .ints(let v)?: return v
        case .int(let v)?: return [v]
        default: return nil
        }
    }

    /// Removes attribute `name` and returns its value as numbers (a FLOAT, FLOATS, INT or INTS), when present.
    mutating func takeDoubles(_ name: String) -> [Double]? {
        defer { attributes[name] = nil }
        switch attributes[name] {
        case .float(let v)?: return [v]
        case .floats(let v)?: return v
        case .int(let v)?: return [Double(v)]
        case .ints(let v)?: return v.map(Double.init)
        default: return nil
        }
    }

    /// The INT attribute `name`, when present.
    func int(_ name: String) -> Int? {
        if case .int(let v)? = attributes[name] { return v }
        return nil
    }

    /// The STRING attribute `name`, when present.
    func string(_ name: String) -> String? {
        if case .string(let v)? = attributes[name] { return v }
        return nil
    }
}

/// Where one input of an ``ONNXExportNode`` comes from.
enum ONNXExportOperand {
    /// A tensor of the graph (a value, a graph input or an initializer already written).
    case value(String)
    /// A constant, written as an initializer.
    case constant(Tensor)
    /// An optional input left out (`""`).
    case absent

    /// A 1-D int64 constant (axes, pads, starts, shapes).
    static func int64s(_ values: [Int]) -> ONNXExportOperand {
        .constant(int64Tensor(values, shape: [values.count]))
    }

    /// An int64 tensor of `values` (exact: Int64.max and Int64.min survive, unlike a Double detour).
    static func int64Tensor(_ values: [Int], shape: [Int]) -> Tensor {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
        return Tensor(dtype: .int64, shape: shape, exactBytes: bytes)
    }

    /// The value's name, when the operand is a value.
    var valueName: String? {
        if case .value(let name) = self { return name }
        return nil
    }

    /// Whether the operand is left out.
    var isAbsent: Bool {
        if case .absent = self { return true }
        return false
    }
}
