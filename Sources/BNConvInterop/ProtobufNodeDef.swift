import BNConvCore

/// A Swift copy of a TensorFlow `NodeDef`: what the GraphDef reader looks at, and what the writer
/// builds new nodes from.
package struct ProtobufNodeDef: Sendable, Equatable {
    /// The node's unique name.
    package var name: String
    /// The op type (`Conv2D`, `Const`, ...).
    package var op: String
    /// Inputs as written: `"node"`, `"node:k"`, or `"^node"` for a control input.
    package var inputs: [String]
    /// The device string (usually empty in frozen graphs).
    package var device: String = ""
    /// Attributes in the file's order (a map on the wire; keys are unique in valid graphs).
    package var attributes: [(key: String, value: ProtobufAttrValue)]

    /// The attribute named `key`, if present.
    package func attribute(_ key: String) -> ProtobufAttrValue? {
        // `attr` is a protobuf map: an entry given twice takes its last value, as TensorFlow reads it.
        attributes.last { $0.key == key }?.value
    }

    package static func == (a: ProtobufNodeDef, b: ProtobufNodeDef) -> Bool {
        a.name == b.name && a.op == b.op && a.inputs == b.inputs && a.device == b.device
            && a.attributes.map(\.key) == b.attributes.map(\.key)
            && a.attributes.map(\.value) == b.attributes.map(\.value)
    }

    /// Creates a value from each stored property (the memberwise initializer, across modules).
    package init(name: String, op: String, inputs: [String], device: String = "", attributes: [(key: String, value: ProtobufAttrValue)]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.device = device
        self.attributes = attributes
    }
}
