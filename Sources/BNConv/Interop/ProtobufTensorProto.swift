/// A Swift copy of the fields of a TensorFlow `TensorProto` that bnconv reads and writes.
///
/// Built from (and turned back into) protobuf-c messages only by ``ProtobufGraphDef``; the
/// decoding rules (repeat-last-value, zero fill, half bits) live in Formats/TensorFlow.
struct ProtobufTensorProto: Sendable, Equatable {
    /// The `DataType` enum value (DT_FLOAT = 1, ...).
    var dtype: Int32
    /// The dimensions; `nil` when the shape has `unknown_rank` set.
    var shape: [Int64]?
    /// Raw little-endian row-major element bytes (`tensor_content`); empty when a value list is used.
    /// A slice, so it can be a view of the file's bytes (or of a ``Tensor``'s) rather than a copy.
    var content: ArraySlice<UInt8> = []
    /// `half_val`: DT_HALF / DT_BFLOAT16 bit patterns, one per int32.
    var halfValues: [Int32] = []
    /// `float_val`.
    var floatValues: [Float] = []
    /// `double_val`.
    var doubleValues: [Double] = []
    /// `int_val`: DT_INT32, DT_INT16, DT_UINT16, DT_INT8, DT_UINT8.
    var intValues: [Int32] = []
    /// `int64_val`.
    var int64Values: [Int64] = []
    /// `bool_val`.
    var boolValues: [Bool] = []
    /// Whether any other value list (strings, complex, uint32/64, float8) is set.
    var hasOtherValues: Bool = false
}
