import CBNConvProto
import CProtobufC
import BNConvCore

/// A TensorFlow `MetaGraphDef` (a `.meta` file beside a `tf.train.Saver` checkpoint, or one graph
/// of a SavedModel), read through protobuf-c: the graph's bytes as they lie, and Swift copies of
/// what a reader needs from the rest (tags, saver, collections, signatures, object graph).
///
/// The `graph_def` field is cut out before protobuf-c unpacks the rest, so a graph is parsed once,
/// by ``ProtobufGraphDefFile``, from ``graphDef``. Field numbers: tensorflow/core/protobuf/meta_graph.proto.
package struct ProtobufMetaGraph: Sendable {
    /// A saver's names (tensorflow/core/protobuf/saver.proto).
    package struct Saver: Sendable, Equatable {
        /// The string tensor fed with the checkpoint prefix (`save/Const:0`).
        package var filenameTensor: String
        /// The op that restores every variable (`save/restore_all`).
        package var restoreOp: String
        /// The checkpoint format version (`V1` = 1, `V2` = 2).
        package var version: Int32
    }

    /// A collection's items.
    package enum Collection: Sendable, Equatable {
        /// Node or tensor names (`update_ops`, `train_op`).
        case nodes([String])
        /// Serialized protobufs or strings (`variables`: VariableDefs).
        case bytes([[UInt8]])
        /// Integers.
        case int64s([Int64])
        /// Floats.
        case floats([Float])
        /// `Any` values, or a kind this reader does not know.
        case other
    }

    /// The tag set (`serve`, `train`) of a SavedModel graph.
    package var tags: [String]
    /// The TensorFlow version that wrote it (`2.21.0`), when recorded.
    package var tensorflowVersion: String
    /// The `GraphDef` message's bytes (the graph_def field's payload; empty when absent).
    package var graphDef: [UInt8]
    /// The saver, when the graph has one.
    package var saver: Saver?
    /// The collections by name.
    package var collections: [String: Collection]
    /// The signatures, by key order as stored.
    package var signatures: [ProtobufSignature]
    /// A TF2 SavedModel's object graph.
    package var objectGraph: ProtobufSavedObjectGraph?

    /// Reads a MetaGraphDef from `bytes`; a malformed message is an error naming `file` (and
    /// `place` inside it, for a SavedModel's graphs).
    package static func parse(_ bytes: UnsafeRawBufferPointer, file: String, place: String = "") throws -> ProtobufMetaGraph {
        func refusal(_ why: String) -> CheckpointError {
            CheckpointError(.malformed, file: file, place: place, problem: "not a TensorFlow MetaGraphDef: \(why)")
        }
        guard !bytes.isEmpty else { throw refusal("the message is empty") }
        guard let fields = ProtobufWire.fields(in: bytes, 0..<bytes.count) else {
            throw refusal("the protobuf wire format is broken (a truncated field or a length past the end)")
        }
        var graph = [UInt8]()
        var rest = [UInt8]()
        for f in fields {
            if f.number == 2 {
                guard f.wireType == 2 else { throw refusal("field 2 (graph_def) is not a message") }
                // Repeated occurrences of a message field merge: their payloads concatenate.
                graph += UnsafeRawBufferPointer(rebasing: bytes[f.payload])
            } else {
                rest += UnsafeRawBufferPointer(rebasing: bytes[f.range])
            }
        }
        var meta = ProtobufMetaGraph(tags: [], tensorflowVersion: "", graphDef: graph, saver: nil, collections: [:], signatures: [], objectGraph: nil)
        if rest.isEmpty { return meta }
        let message = try rest.withUnsafeBytes { raw in
            try withUnsafePointer(to: tensorflow__meta_graph_def__descriptor) { descriptor in
                try ProtobufMessage.checked(raw, descriptor: descriptor, what: "TensorFlow MetaGraphDef", file: file, place: place) {
                    tensorflow__meta_graph_def__unpack(nil, $0, $1)
                }
            }
        }
        let m = message.root(as: Tensorflow__MetaGraphDef.self).pointee
        if let info = m.meta_info_def?.pointee {
            meta.tags = ProtobufCAllocation.strings(info.tags, info.n_tags)
            meta.tensorflowVersion = ProtobufCAllocation.string(info.tensorflow_version)
        }
        if let s = m.saver_def?.pointee {
            meta.saver = Saver(filenameTensor: ProtobufCAllocation.string(s.filename_tensor_name),
                               restoreOp: ProtobufCAllocation.string(s.restore_op_name), version: Int32(s.version.rawValue))
        }
        for entry in ProtobufCAllocation.messages(m.collection_def, m.n_collection_def) {
            let key = ProtobufCAllocation.string(entry.pointee.key)
            meta.collections[key] = entry.pointee.value.map { collection($0.pointee) } ?? .other
        }
        for entry in ProtobufCAllocation.messages(m.signature_def, m.n_signature_def) {
            guard let value = entry.pointee.value else { continue }
            meta.signatures.append(ProtobufSignature(key: ProtobufCAllocation.string(entry.pointee.key), value.pointee))
        }
        if let objects = m.object_graph_def {
            meta.objectGraph = ProtobufSavedObjectGraph(objects.pointee)
        }
        return meta
    }

    /// A Swift copy of a CollectionDef.
    private static func collection(_ c: Tensorflow__CollectionDef) -> Collection {
        switch c.kind_case {
        case TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST:
            guard let list = c.node_list?.pointee else { return .nodes([]) }
            return .nodes(ProtobufCAllocation.strings(list.value, list.n_value))
        case TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST:
            guard let list = c.bytes_list?.pointee else { return .bytes([]) }
            return .bytes(ProtobufCAllocation.array(list.value, list.n_value).map(ProtobufCAllocation.bytes))
        case TENSORFLOW__COLLECTION_DEF__KIND_INT64_LIST:
            guard let list = c.int64_list?.pointee else { return .int64s([]) }
            return .int64s(ProtobufCAllocation.array(list.value, list.n_value))
        case TENSORFLOW__COLLECTION_DEF__KIND_FLOAT_LIST:
            guard let list = c.float_list?.pointee else { return .floats([]) }
            return .floats(ProtobufCAllocation.array(list.value, list.n_value))
        default:
            return .other
        }
    }

    /// The names a node-list collection holds (`[]` when absent or of another kind).
    package func nodeNames(_ collection: String) -> [String] {
        if case .nodes(let names)? = collections[collection] { return names }
        return []
    }

    /// The variables the `variables` collection (and `local_variables`) describes, in order;
    /// entries protobuf-c cannot parse are skipped (the collection only refines what the graph says).
    package func variableDefs() -> [ProtobufVariableDef] {
        var defs = [ProtobufVariableDef]()
        for key in ["variables", "local_variables"] {
            guard case .bytes(let items)? = collections[key] else { continue }
            defs += items.compactMap(ProtobufVariableDef.init(bytes:))
        }
        return defs
    }
}
