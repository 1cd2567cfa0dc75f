/// The element type of a ``Tensor``, as stored in a checkpoint.
///
/// Floating types keep their on-disk width: bnconv computes in `Double` where precision matters
/// (folding) and in `Float` in the engine, and stores results back in the original dtype.
public enum DType: String, Sendable, CaseIterable, Codable {
    /// IEEE 754 half precision (2 bytes).
    case float16
    /// bfloat16: float32's exponent with a 7-bit mantissa (2 bytes).
    case bfloat16
    /// IEEE 754 single precision (4 bytes).
    case float32
    /// IEEE 754 double precision (8 bytes).
    case float64
    /// Signed 8-bit integer.
    case int8
    /// Unsigned 8-bit integer.
    case uint8
    /// Signed 16-bit integer.
    case int16
    /// Signed 32-bit integer.
    case int32
    /// Signed 64-bit integer.
    case int64
    /// Boolean, one byte per element.
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
