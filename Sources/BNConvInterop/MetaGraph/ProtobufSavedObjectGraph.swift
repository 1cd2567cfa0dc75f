import CBNConvProto
import CProtobufC
import BNConvCore

/// A TF2 SavedModel's object graph (SavedObjectGraph, tensorflow/core/protobuf/saved_object_graph.proto):
/// what each object is, and which objects each concrete function captures. Node i is node i of the
/// object graph stored in the SavedModel's checkpoint (``ProtobufTrackableObjectGraph``), which gives
/// its variables' checkpoint keys.
package struct ProtobufSavedObjectGraph: Sendable, Equatable {
    /// What an object is.
    package enum Kind: Sendable, Equatable {
        /// A variable: its name, dtype (DataType number) and shape (nil: unknown rank).
        case variable(name: String, dtype: Int32, shape: [Int64]?)
        /// A tf.function and its concrete functions.
        case function(concreteFunctions: [String])
        /// A concrete function saved on its own (a signature's).
        case bareConcreteFunction(String)
        /// A user object (`_generic_user_object`, a Keras layer): its type identifier.
        case userObject(identifier: String)
        /// A constant made by a graph operation.
        case constant(operation: String)
        /// A captured tensor.
        case capturedTensor(name: String)
        /// A resource, an asset, or a kind this reader does not know.
        case other
    }

    /// One object.
    package struct Object: Sendable, Equatable {
        /// Its children: (object index, local name).
        package var children: [(node: Int, name: String)]
        /// What it is.
        package var kind: Kind

        package static func == (a: Object, b: Object) -> Bool {
            a.kind == b.kind && a.children.elementsEqual(b.children) { $0.node == $1.node && $0.name == $1.name }
        }
    }

    /// The objects, by index.
    package var objects: [Object]
    /// Each concrete function's captured objects (bound_inputs), by function name: the k-th
    /// captured argument of the function is object `boundInputs[k]`.
    package var boundInputs: [String: [Int]]

    /// A Swift copy of `g`.
    init(_ g: Tensorflow__SavedObjectGraph) {
        objects = ProtobufCAllocation.messages(g.nodes, g.n_nodes).map { node in
            let o = node.pointee
            let children = ProtobufCAllocation.messages(o.children, o.n_children).map {
                (node: Int($0.pointee.node_id), name: ProtobufCAllocation.string($0.pointee.local_name))
            }
            return Object(children: children, kind: Self.kind(o))
        }
        var bound = [String: [Int]]()
        for entry in ProtobufCAllocation.messages(g.concrete_functions, g.n_concrete_functions) {
            let inputs = entry.pointee.value.map { ProtobufCAllocation.array($0.pointee.bound_inputs, $0.pointee.n_bound_inputs).map(Int.init) } ?? []
            bound[ProtobufCAllocation.string(entry.pointee.key)] = inputs
        }
        boundInputs = bound
    }

    /// The kind of object `o` is.
    private static func kind(_ o: Tensorflow__SavedObject) -> Kind {
        switch o.kind_case {
        case TENSORFLOW__SAVED_OBJECT__KIND_VARIABLE:
            guard let v = o.variable?.pointee else { return .other }
            return .variable(name: ProtobufCAllocation.string(v.name), dtype: Int32(v.dtype.rawValue),
                             shape: v.shape.flatMap { ProtobufNodeDefCodec.dims($0) })
        case TENSORFLOW__SAVED_OBJECT__KIND_FUNCTION:
            guard let f = o.function?.pointee else { return .other }
            return .function(concreteFunctions: ProtobufCAllocation.strings(f.concrete_functions, f.n_concrete_functions))
        case TENSORFLOW__SAVED_OBJECT__KIND_BARE_CONCRETE_FUNCTION:
            return .bareConcreteFunction(ProtobufCAllocation.string(o.bare_concrete_function?.pointee.concrete_function_name))
        case TENSORFLOW__SAVED_OBJECT__KIND_USER_OBJECT:
            return .userObject(identifier: ProtobufCAllocation.string(o.user_object?.pointee.identifier))
        case TENSORFLOW__SAVED_OBJECT__KIND_CONSTANT:
            return .constant(operation: ProtobufCAllocation.string(o.constant?.pointee.operation))
        case TENSORFLOW__SAVED_OBJECT__KIND_CAPTURED_TENSOR:
            return .capturedTensor(name: ProtobufCAllocation.string(o.captured_tensor?.pointee.name))
        default:
            return .other
        }
    }
}
