/// A Swift copy of a TensorFlow `NodeDef`: what the GraphDef reader looks at, and what the writer
/// builds new nodes from.
struct ProtobufNodeDef: Sendable, Equatable {
    /// The node's unique name.
    var name: String
    /// The op type (`Conv2D`, `Const`, ...).
    var op: String
    /// Inputs as written: `"node"`, `"node:k"`, or `"^node"` for a control input.
    var inputs: [String]
    /// The device string (usually empty in frozen graphs).
    var device: String = ""
    /// Attributes in the file's order (a map on the wire; keys are unique in valid graphs).
    var attributes: [(key: String, value: ProtobufAttrValue)]

    /// The attribute named `key`, if present.
    func attribute(_ key: String) -> ProtobufAttrValue? {
        attributes.first { $0.key == key }?.value
    }

    static func == (a: ProtobufNodeDef, b: ProtobufNodeDef) -> Bool {
        a.name == b.name && a.op == b.op && a.inputs == b.inputs && a.device == b.device
            && a.attributes.map(\.key) == b.attributes.map(\.key)
            && a.attributes.map(\.value) == b.attributes.map(\.value)
    }
}
