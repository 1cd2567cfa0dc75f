import BNConvCore

/// A variable to save in Keras TF-format weights: its local name under the layer, its full name
/// (the `full_name` of its `VARIABLE_VALUE` attribute) and its value.
struct KerasCheckpointVariableValue: Sendable {
    /// The local name (`kernel`, `depthwise_kernel`, `moving_mean`).
    var name: String
    /// The full name (`conv/kernel`).
    var fullName: String
    /// The value.
    var tensor: Tensor
}
