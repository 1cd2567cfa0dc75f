/// Why the op library cannot build or run an op.
public enum OpError: Error, Equatable, CustomStringConvertible {
    /// The op, or this form of it, is not in the library (`reason` says which part).
    case unsupported(op: String, reason: String)
    /// An input or attribute does not fit the op's specification (shapes that do not broadcast,
    /// an axis out of range, a wrong dtype).
    case invalid(op: String, problem: String)

    /// A one-line description.
    public var description: String {
        switch self {
        case let .unsupported(op, reason): return "ONNX \(op) \(reason) is not supported"
        case let .invalid(op, problem): return "\(op): \(problem)"
        }
    }
}
