import BNConvInterop

/// A variable's value for the `Const` that replaces it: its data type and size known at once, its
/// contents read from the checkpoint only when the node is written, so a frozen graph holds each
/// weight once, in its own bytes.
struct FrozenValue {
    /// The TensorFlow DataType number.
    var dtype: Int32
    /// The contents' size in bytes (to size the graph before it is written).
    var byteCount: Int
    /// Reads the value.
    var load: () throws -> ProtobufTensorProto
}
