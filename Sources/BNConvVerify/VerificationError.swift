import BNConvCore
import BNConvModel
import BNConvEngine

/// Why two models could not be compared at all.
public enum VerificationError: Error, Equatable, CustomStringConvertible {
    /// The models have different numbers of inputs or outputs.
    case interfaceMismatch(String)
    /// A value has different shapes in the two models.
    case shapeMismatch(reference: [Int], candidate: [Int])
    /// An input shape has an unknown dimension other than the batch, so no random input can be made.
    case unknownInputShape(input: String, shape: [Int?]?)
    /// A user-given input does not match the model's input.
    case inputMismatch(String)
    /// A random input of this shape would hold more than `limit` values (``RandomInputs/maximumValues``).
    case randomInputTooLarge(input: String, shape: [Int], limit: Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case .interfaceMismatch(let s): return s
        case let .shapeMismatch(r, c): return "shapes differ: reference \(r), candidate \(c)"
        case let .unknownInputShape(input, shape):
            let text = shape.map { "(" + $0.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + ")" } ?? "unknown"
            return "input '\(input)' has shape \(text); give an input with --input"
        case .inputMismatch(let s): return s
        case let .randomInputTooLarge(input, shape, limit):
            return "a random input '\(input)' of shape \(shape) would hold more than \(limit) values (\(limit >> 18) MiB)"
        }
    }
}
