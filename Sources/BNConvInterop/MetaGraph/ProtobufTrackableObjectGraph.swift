import CBNConvProto
import CProtobufC
import BNConvCore

/// The object graph an object-based checkpoint stores under `_CHECKPOINTABLE_OBJECT_GRAPH`
/// (TrackableObjectGraph, tensorflow/core/protobuf/trackable_object_graph.proto): each object's
/// children and the checkpoint keys of its own tensors. Node 0 is the root.
///
/// Decoded by protobuf-c; encoded field by field (``encoded()``) in the order TensorFlow's
/// protobuf C++ writes them, for the checkpoints bnconv writes itself. Slot variable references
/// and registered savers are not kept (a Keras `save_weights` checkpoint has none).
package struct ProtobufTrackableObjectGraph: Sendable, Equatable {
    /// One tensor an object saved.
    package struct Attribute: Sendable, Equatable {
        /// Its name on the object (`VARIABLE_VALUE`).
        package var name: String
        /// The variable's full name (`conv2d/kernel`).
        package var fullName: String
        /// Its key in the tensor bundle (`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`).
        package var checkpointKey: String

        /// An attribute with each field given.
        package init(name: String, fullName: String, checkpointKey: String) {
            self.name = name
            self.fullName = fullName
            self.checkpointKey = checkpointKey
        }
    }

    /// One object.
    package struct Object: Sendable, Equatable {
        /// Its children: (object index, local name).
        package var children: [Child]
        /// Its saved tensors.
        package var attributes: [Attribute]
        /// The `has_checkpoint_values` flag (whether the object or an object under it saved a
        /// tensor), `nil` when the message leaves it out.
        package var hasCheckpointValues: Bool?

        /// The name of a variable's value attribute (`.ATTRIBUTES/VARIABLE_VALUE` in its key).
        package static let variableValueName = "VARIABLE_VALUE"

        /// The variable's value attribute, when the object is a variable.
        package var variableValue: Attribute? { attributes.first { $0.name == Self.variableValueName } }

        /// An object with each field given.
        package init(children: [Child], attributes: [Attribute], hasCheckpointValues: Bool? = nil) {
            self.children = children
            self.attributes = attributes
            self.hasCheckpointValues = hasCheckpointValues
        }
    }

    /// A reference to a child object.
    package struct Child: Sendable, Equatable {
        /// The child's index.
        package var node: Int
        /// Its name under the parent (`layer_with_weights-0`, `kernel`).
        package var name: String

        /// A reference to object `node` under the local name `name`.
        package init(node: Int, name: String) {
            self.node = node
            self.name = name
        }
    }

    /// The objects, by index.
    package var objects: [Object]

    /// A graph of `objects` (node 0 the root).
    package init(objects: [Object]) {
        self.objects = objects
    }

    /// Parses a serialized TrackableObjectGraph; `file` names the checkpoint in errors.
    package init(bytes: [UInt8], file: String) throws {
        if bytes.isEmpty { objects = []; return }
        let message = try bytes.withUnsafeBytes { raw in
            try withUnsafePointer(to: tensorflow__trackable_object_graph__descriptor) { descriptor in
                try ProtobufMessage.checked(raw, descriptor: descriptor, what: "TensorFlow TrackableObjectGraph", file: file,
                                            place: "_CHECKPOINTABLE_OBJECT_GRAPH") { tensorflow__trackable_object_graph__unpack(nil, $0, $1) }
            }
        }
        let g = message.root(as: Tensorflow__TrackableObjectGraph.self).pointee
        objects = ProtobufCAllocation.messages(g.nodes, g.n_nodes).map { node in
            let o = node.pointee
            return Object(
                children: ProtobufCAllocation.messages(o.children, o.n_children).map {
                    Child(node: Int($0.pointee.node_id), name: ProtobufCAllocation.string($0.pointee.local_name))
                },
                attributes: ProtobufCAllocation.messages(o.attributes, o.n_attributes).map {
                    Attribute(name: ProtobufCAllocation.string($0.pointee.name), fullName: ProtobufCAllocation.string($0.pointee.full_name),
                              checkpointKey: ProtobufCAllocation.string($0.pointee.checkpoint_key))
                },
                hasCheckpointValues: o.has_checkpoint_values.map { ProtobufTrackableObjectGraph.boolValue($0.pointee.base) })
        }
    }

    /// The value of a `google.protobuf.BoolValue` the schema leaves opaque: its field 1 (a varint),
    /// which protobuf-c keeps among the message's unknown fields; false when absent.
    private static func boolValue(_ message: ProtobufCMessage) -> Bool {
        let fields = UnsafeBufferPointer(start: message.unknown_fields, count: Int(message.n_unknown_fields))
        guard let field = fields.last(where: { $0.tag == 1 && $0.wire_type == PROTOBUF_C_WIRE_TYPE_VARINT }),
              let data = field.data else { return false }
        var offset = 0
        let bytes = UnsafeBufferPointer(start: data, count: field.len)
        return (ProtobufWire.decodeVarint(bytes, at: &offset, end: bytes.count) ?? 0) != 0
    }

    /// The encoded message: every object's children (`node_id`, `local_name`), attributes (`name`,
    /// `full_name`, `checkpoint_key`) and `has_checkpoint_values`, fields in number order and
    /// proto3 zero values left out, as protobuf C++ serializes them.
    package func encoded() -> [UInt8] {
        var out = [UInt8]()
        for object in objects {
            var node = [UInt8]()
            for child in object.children {
                var reference = [UInt8]()
                if child.node != 0 { reference += ProtobufWire.varint(1 << 3) + ProtobufWire.varint(child.node) }
                reference += Self.string(field: 2, child.name)
                node += ProtobufWire.lengthDelimitedHeader(field: 1, length: reference.count) + reference
            }
            for attribute in object.attributes {
                let tensor = Self.string(field: 1, attribute.name) + Self.string(field: 2, attribute.fullName)
                    + Self.string(field: 3, attribute.checkpointKey)
                node += ProtobufWire.lengthDelimitedHeader(field: 2, length: tensor.count) + tensor
            }
            if let flag = object.hasCheckpointValues {
                let value: [UInt8] = flag ? ProtobufWire.varint(1 << 3) + [1] : []
                node += ProtobufWire.lengthDelimitedHeader(field: 5, length: value.count) + value
            }
            out += ProtobufWire.lengthDelimitedHeader(field: 1, length: node.count) + node
        }
        return out
    }

    /// A string field, left out when empty (proto3).
    private static func string(field: Int, _ value: String) -> [UInt8] {
        let bytes = Array(value.utf8)
        return bytes.isEmpty ? [] : ProtobufWire.lengthDelimitedHeader(field: field, length: bytes.count) + bytes
    }
}
