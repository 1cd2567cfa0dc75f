/// Why an op-library node has no ONNX form in the exported graph: a lowering or an opset upgrade
/// met something it cannot express. The emitter turns it into a `CheckpointError` naming the node.
struct ONNXExportRefusal: Error, CustomStringConvertible {
    /// The reason, a sentence without the node's name.
    var reason: String

    /// A refusal for `reason`.
    init(_ reason: String) { self.reason = reason }

    var description: String { reason }
}
