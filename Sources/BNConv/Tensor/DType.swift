/// The element type of a ``Tensor``, as stored in a checkpoint.
///
/// Floating types keep their on-disk width: bnconv computes in `Double` where precision matters
/// (folding) and in `Float` in the engine, and stores results back in the original dtype.
public enum DType: String, Sendable, CaseIterable, Codable {
    case float16
    case bfloat16
    case float32
    case float64
    case int8
    case uint8
    case int16
    case int32
    case int64
    case bool

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .bfloat16, .int16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// Whether the type is a floating-point type (the kind of weight a fold may rewrite).
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: return true
        default: return false
        }
    }
}
