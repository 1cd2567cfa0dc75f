import BNConvCore

/// An op of the op library: an ONNX operator (its `type`, attributes and opset version), the
/// specification every graph op bnconv does not model as a CNN layer runs by.
///
/// TensorFlow GraphDef ops and Keras layers outside the typed ``Op`` cases map onto these too, with
/// their attributes turned into ONNX's (docs/engine.md, The op library). Constant operands (ONNX
/// initializers and `Constant` outputs, TensorFlow `Const` inputs) are the node's ``Weight``s; the
/// ``arguments`` list says, per ONNX input position, where each operand comes from.
public struct TensorOp: Equatable, Sendable {
    /// The ONNX operator name (`Add`, `Gather`, `ReduceMean`, ...).
    public var type: String
    /// The default-domain opset version the attributes follow.
    public var opset: Int
    /// The attributes, by ONNX name (defaults not filled in: the op library applies them).
    public var attributes: [String: OpAttribute]
    /// Per ONNX input position, where the operand comes from.
    public var arguments: [TensorOpArgument]

    /// Creates an op; with `arguments` nil, input `k` is the node's `k`-th input.
    public init(type: String, opset: Int, attributes: [String: OpAttribute] = [:], arguments: [TensorOpArgument]) {
        self.type = type
        self.opset = opset
        self.attributes = attributes
        self.arguments = arguments
    }

    /// Op types whose output is bool whatever their operands' type: ONNX's comparisons and logic
    /// ops, and the library's `TF.All` / `TF.Any`.
    public static let boolResults: Set<String> = ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not",
                                                  "Xor", "IsNaN", "IsInf", "TF.All", "TF.Any"]

    /// The weight role that carries a constant operand at ONNX input position `position`.
    public static func operandRole(_ position: Int) -> WeightRole { WeightRole(rawValue: "input\(position)") }
}

/// Where one ONNX input of a ``TensorOp`` comes from.
public enum TensorOpArgument: Equatable, Sendable {
    /// The node's `n`-th input value.
    case value(Int)
    /// The node's weight with this role (a constant operand).
    case weight(WeightRole)
    /// An optional input left out.
    case absent
}

/// An attribute value of a ``TensorOp`` (ONNX `AttributeProto` kinds bnconv reads).
public enum OpAttribute: Equatable, Sendable {
    /// INT.
    case int(Int)
    /// FLOAT (widened from the stored float32).
    case float(Double)
    /// STRING (as bytes decoded as UTF-8).
    case string(String)
    /// INTS.
    case ints([Int])
    /// FLOATS.
    case floats([Double])
    /// STRINGS.
    case strings([String])
    /// TENSOR.
    case tensor(Tensor)
}
