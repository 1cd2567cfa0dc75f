import CBNConvProto
import CProtobufC
import BNConvCore

/// The object graph an object-based checkpoint stores under `_CHECKPOINTABLE_OBJECT_GRAPH`
/// (TrackableObjectGraph, tensorflow/core/protobuf/trackable_object_graph.proto): each object's
/// children and the checkpoint keys of its own tensors. Node 0 is the root.
package struct ProtobufTrackableObjectGraph: Sendable, Equatable {
    /// One tensor an object saved.
    package struct Attribute: Sendable, Equatable {
        /// Its name on the object (`VARIABLE_VALUE`).
        package var name: String
        /// The variable's full name (`conv2d/kernel`).
        package var fullName: String
        /// Its key in the tensor bundle (`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`).
        package var checkpointKey: String
    }

    /// One object.
    package struct Object: Sendable, Equatable {
        /// Its children: (object index, local name).
        package var children: [Child]
        /// Its saved tensors.
        package var attributes: [Attribute]
    }

    /// A reference to a child object.
    package struct Child: Sendable, Equatable {
        /// The child's index.
        package var node: Int
        /// Its name under the parent (`layer_with_weights-0`, `kernel`).
        package var name: String
    }

    /// The objects, by index.
    package var objects: [Object]

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
                })
        }
    }
}
