import BNConvCore

/// The changes ``ProtobufGraphDefFile`` makes to one NodeDef when it writes the graph; whatever
/// they do not name (other attributes, unknown fields) is kept.
package struct ProtobufNodeDefEdit {
    /// A whole new NodeDef in its place, applied first (its unknown fields are then lost).
    package var replacement: ProtobufNodeDef?
    /// Attributes to set: an entry of that key is replaced in place, otherwise one is appended.
    package var attributes: [(key: String, value: ProtobufAttrValue)] = []
    /// New tensors for tensor attributes (a Const's `value`); the content is lent to protobuf-c
    /// while the node is packed, not copied.
    package var tensors: [(key: String, tensor: ProtobufTensorProto)] = []
    /// New tensors whose content is still to be computed when the node is written (a folded
    /// kernel left deferred: ``Tensor/isDeferred``), given as the tensor whose raw bytes are the
    /// content; `tensor` carries the dtype and dims. Computed one node at a time, the next one on
    /// another core meanwhile, and lent to protobuf-c like `tensors`' contents.
    package var computedTensors: [(key: String, tensor: ProtobufTensorProto, content: Tensor)] = []
    /// A new input list.
    package var inputs: [String]?

    /// An empty edit (the node is re-encoded as it is).
    package init() {}
}
