import BNConvCore
import BNConvModel
import BNConvInterop

/// A reason the engine cannot run a model or a node, naming the node and its op where known.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// The node's op is one the engine does not run (an unsupported variant of a known op).
    case unsupportedOp(node: String, op: String, reason: String)
    /// An op neither the CNN kernels nor the op library know: `kind` says what the file calls it
    /// ("ONNX op", "TensorFlow op", "Keras layer"; "op" before the runner knows the format; empty
    /// when `op` already says it, as a Keras `TFOpLambda 'math.cumsum'` does).
    case notSupported(kind: String, op: String, node: String)
    /// A node lacks a weight its op needs.
    case missingWeight(node: String, role: WeightRole)
    /// A weight's shape does not fit its op.
    case weightShape(node: String, role: WeightRole, expected: [Int], got: [Int])
    /// An axis outside a tensor's rank.
    case badAxis(Int, shape: [Int], context: String)
    /// Shapes that do not fit together.
    case shapeMismatch(String, expected: [Int], got: [Int])
    /// The wrong number of model inputs.
    case inputCount(expected: Int, got: Int)
    /// A model input whose shape contradicts the model's declared one.
    case inputShape(name: String, declared: [Int?], got: [Int])
    /// A node failed while running; `problem` says why.
    case nodeFailed(node: String, op: String, problem: String)
    /// A model output no node wrote.
    case outputNotComputed(String)
    /// The BLAS library the engine multiplies with could not be loaded; the text says why and how to fix it.
    case blasUnavailable(String)
    /// A value of this shape has more elements than the machine can hold (or than an `Int` counts).
    case tooLarge(shape: [Int], limit: Int)

    /// One line naming the node and op where there is one.
    public var description: String {
        switch self {
        case let .unsupportedOp(node, op, reason):
            return "cannot run node '\(node)' (\(op)): \(reason)"
        case let .notSupported(kind, op, node):
            return (kind.isEmpty ? op : "\(kind) '\(op)'") + " is not supported (node '\(node)')"
        case let .missingWeight(node, role):
            return "node '\(node)' has no '\(role)' weight"
        case let .weightShape(node, role, expected, got):
            return "node '\(node)': weight '\(role)' has shape \(got), expected \(expected)"
        case let .badAxis(axis, shape, context):
            return "\(context) \(axis) is outside a tensor of shape \(shape)"
        case let .shapeMismatch(what, expected, got):
            return "\(what): expected shape \(expected), got \(got)"
        case let .inputCount(expected, got):
            return "the model takes \(expected) input(s), got \(got)"
        case let .inputShape(name, declared, got):
            let d = declared.map { $0.map(String.init) ?? "?" }.joined(separator: ", ")
            return "input '\(name)' has shape \(got), the model declares (\(d))"
        case let .nodeFailed(node, op, problem):
            return "node '\(node)' (\(op)): \(problem)"
        case .outputNotComputed(let name):
            return "model output '\(name)' is written by no node"
        case let .tooLarge(shape, limit):
            return "a value of shape \(shape) would need more than \(limit) elements, more than this machine's memory holds"
        case .blasUnavailable(let problem):
            return problem
        }
    }
}
