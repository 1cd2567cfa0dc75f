import BNConvCore

/// A Swift copy of the fields of a TensorFlow `TensorProto` that bnconv reads and writes.
///
/// Built from (and turned back into) protobuf-c messages only by ``ProtobufGraphDef``; the
/// decoding rules (repeat-last-value, zero fill, half bits) live in Formats/TensorFlow.
package struct ProtobufTensorProto: Sendable, Equatable {
    /// The `DataType` enum value (DT_FLOAT = 1, ...).
    package var dtype: Int32
    /// The dimensions; `nil` when the shape has `unknown_rank` set.
    package var shape: [Int64]?
    /// Raw little-endian row-major element bytes (`tensor_content`); empty when a value list is used.
    /// A slice, so it can be a view of the file's bytes (or of a ``Tensor``'s) rather than a copy.
    package var content: ArraySlice<UInt8> = []
    /// Where `tensor_content` lies in the file when it was left there rather than copied (a large
    /// constant of a GraphDef read for a fold without verification: ``ProtobufGraphDefFile``
    /// lends it from its mapping); `content` is then empty.
    package var stored: Range<Int>?
    /// `half_val`: DT_HALF / DT_BFLOAT16 bit patterns, one per int32.
    package var halfValues: [Int32] = []
    /// `float_val`.
    package var floatValues: [Float] = []
    /// `double_val`.
    package var doubleValues: [Double] = []
    /// `int_val`: DT_INT32, DT_INT16, DT_UINT16, DT_INT8, DT_UINT8.
    package var intValues: [Int32] = []
    /// `int64_val`.
    package var int64Values: [Int64] = []
    /// `bool_val`.
    package var boolValues: [Bool] = []
    /// Whether any other value list (strings, complex, uint32/64, float8) is set.
    package var hasOtherValues: Bool = false

    /// Creates a value from each stored property (the memberwise initializer, across modules).
    package init(dtype: Int32, shape: [Int64]? = nil, content: ArraySlice<UInt8> = [], halfValues: [Int32] = [], floatValues: [Float] = [], doubleValues: [Double] = [], intValues: [Int32] = [], int64Values: [Int64] = [], boolValues: [Bool] = [], hasOtherValues: Bool = false) {
        self.dtype = dtype
        self.shape = shape
        self.content = content
        self.halfValues = halfValues
        self.floatValues = floatValues
        self.doubleValues = doubleValues
        self.intValues = intValues
        self.int64Values = int64Values
        self.boolValues = boolValues
        self.hasOtherValues = hasOtherValues
    }
}
