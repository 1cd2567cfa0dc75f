import BNConvCore
import BNConvModel
import BNConvInterop

/// TensorFlow's `DataType` enum values (tensorflow/core/framework/types.proto) and their ``DType``.
enum TensorFlowDataType {
    static let float: Int32 = 1
    static let double: Int32 = 2
    static let int32: Int32 = 3
    static let uint8: Int32 = 4
    static let int16: Int32 = 5
    static let int8: Int32 = 6
    static let int64: Int32 = 9
    static let bool: Int32 = 10
    static let bfloat16: Int32 = 14
    static let half: Int32 = 19

    /// The ``DType`` of a TensorFlow data type (reference types, +100, count as their base type);
    /// `nil` for types bnconv does not hold in a ``Tensor`` (strings, complex, quantized, ...).
    static func dtype(_ value: Int32) -> DType? {
        switch value > 100 ? value - 100 : value {
        case float: return .float32
        case double: return .float64
        case int32: return .int32
        case uint8: return .uint8
        case int16: return .int16
        case int8: return .int8
        case int64: return .int64
        case bool: return .bool
        case bfloat16: return .bfloat16
        case half: return .float16
        default: return nil
        }
    }

    /// The TensorFlow data type of a ``DType``.
    static func value(_ dtype: DType) -> Int32 {
        switch dtype {
        case .float32: return float
        case .float64: return double
        case .int32: return int32
        case .uint8: return uint8
        case .int16: return int16
        case .int8: return int8
        case .int64: return int64
        case .bool: return bool
        case .bfloat16: return bfloat16
        case .float16: return half
        }
    }
}
