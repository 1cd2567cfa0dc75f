import BNConvCore
import BNConvModel

/// Typed access to a ``TensorOp``'s attributes; callers give ONNX's defaults.
public struct OpAttributes: Sendable {
    /// The op's type (for error messages).
    public let op: String
    /// The opset version the attributes follow.
    public let opset: Int
    /// The attributes by name.
    public let values: [String: OpAttribute]

    /// Wraps `op`'s attributes.
    public init(_ op: TensorOp) {
        self.op = op.type
        opset = op.opset
        values = op.attributes
    }

    /// Wraps attributes given directly (tests, ops built by a mapper).
    public init(op: String, opset: Int, values: [String: OpAttribute]) {
        self.op = op
        self.opset = opset
        self.values = values
    }

    /// Whether the attribute is present.
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// An INT attribute (a FLOAT holding an integer is accepted), or `fallback`.
    public func int(_ name: String, _ fallback: Int) throws -> Int { try int(name) ?? fallback }

    /// An INT attribute, or nil when absent.
    public func int(_ name: String) throws -> Int? {
        switch values[name] {
        case nil: return nil
        case .int(let v)?: return v
        default: throw OpError.invalid(op: op, problem: "attribute '\(name)' is not an integer")
        }
    }

    /// A FLOAT attribute (an INT is widened), or `fallback`.
    public func float(_ name: String, _ fallback: Double) throws -> Double { try float(name) ?? fallback }

    /// A FLOAT attribute, or nil when absent.
    public func float(_ name: String) throws -> Double? {
        switch values[name] {
        case nil: return nil
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: throw OpError.invalid(op: op, problem: "attribute '\(name)' is not a number")
        }
    }

    /// A STRING attribute, or `fallback`.
    public func string(_ name: String, _ fallback: String) throws -> String {
        switch values[name] {
        case nil: return fallback
        case .string(let v)?: return v
        default: throw OpError.invalid(op: op, problem: "attribute '\(name)' is not a string")
        }
    }

    /// An INTS attribute, or nil when absent (a single INT is read as one element).
    public func ints(_ name: String) throws -> [Int]? {
        switch values[name] {
        case nil: return nil
        case .ints(let v)?: return v
        case .int(let v)?: return [v]
        default: throw OpError.invalid(op: op, problem: "attribute '\(name)' is not a list of integers")
        }
    }

    /// A FLOATS attribute, or nil when absent.
    public func floats(_ name: String) throws -> [Double]? {
        switch values[name] {
        case nil: return nil
        case .floats(let v)?: return v
        case .ints(let v)?: return v.map(Double.init)
        default: throw OpError.invalid(op: op, problem: "attribute '\(name)' is not a list of numbers")
        }
    }

    /// A TENSOR attribute, or nil when absent.
    public func tensor(_ name: String) throws -> HostTensor? {
        switch values[name] {
        case nil: return nil
        case .tensor(let t)?: return try HostTensor(t)
        default: throw OpError.invalid(op: op, problem: "attribute '\(name)' is not a tensor")
        }
    }

    /// An error naming this op.
    public func invalid(_ problem: String) -> OpError { .invalid(op: op, problem: problem) }

    /// A refusal naming this op: "ONNX <op> <reason> is not supported".
    public func unsupported(_ reason: String) -> OpError { .unsupported(op: op, reason: reason) }
}
