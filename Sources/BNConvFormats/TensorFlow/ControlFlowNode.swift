import BNConvInterop

/// A node of a TensorFlow graph as ``ConstantConditions`` reads it: its op, data inputs and attributes.
protocol ControlFlowNode {
    /// The op.
    var op: String { get }
    /// The data inputs (control inputs left out).
    var dataInputs: [TensorReference] { get }
    /// The attribute `key`.
    func attribute(_ key: String) -> ProtobufAttrValue?
}

extension FreezableNode: ControlFlowNode {}

extension ProtobufNodeDef: ControlFlowNode {
    var dataInputs: [TensorReference] { inputs.compactMap(TensorReference.init) }
}
