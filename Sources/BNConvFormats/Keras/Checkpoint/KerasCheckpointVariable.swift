/// One variable of a layer as a Keras TF-format checkpoint's object graph names it: the layer
/// object's child that holds a `VARIABLE_VALUE` attribute.
struct KerasCheckpointVariable: Sendable, Equatable {
    /// The child's local name under the layer (`kernel`, `depthwise_kernel`, `moving_mean`): the
    /// name the layer gave `add_weight`.
    var name: String
    /// The variable's full name (`conv/kernel`, the Keras variable name without `:0`).
    var fullName: String
    /// Its key in the tensor bundle (`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`).
    var key: String
}
