import CBNConvProto
import CProtobufC
import Foundation
import BNConvCore

/// Builds a `saved_model.pb` holding one frozen graph: a SavedModel (schema version 1) whose one
/// MetaGraphDef has the given tags, the GraphDef given as bytes and one signature, and no saver or
/// variables (every value is a constant of the graph). TensorFlow and TF Serving load such a
/// SavedModel as a TF1 one (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto).
///
/// The MetaGraphDef's other fields are built and packed by protobuf-c; the graph, already a packed
/// GraphDef, is appended as field 2 and the MetaGraphDef as SavedModel field 2 (a message field's
/// bytes are its packed message: the protobuf encoding), so a large graph is never re-parsed.
package enum ProtobufSavedModelBuilder {
    /// A signature tensor: its key, the graph tensor (`x:0`), DataType and dims (-1 unknown).
    package struct Tensor: Sendable {
        /// The signature's key.
        package var key: String
        /// The graph tensor name.
        package var name: String
        /// The TensorFlow DataType number.
        package var dtype: Int32
        /// The dimensions (-1: unknown); nil for unknown rank.
        package var shape: [Int64]?

        /// A signature tensor.
        package init(key: String, name: String, dtype: Int32, shape: [Int64]?) {
            self.key = key
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }
    }

    /// The `saved_model.pb` bytes.
    package static func build(graph: [UInt8], tags: [String], signature: String, inputs: [Tensor], outputs: [Tensor],
                              methodName: String = "tensorflow/serving/predict") -> [UInt8] {
        let meta = ProtobufCAllocation.allocate(Tensorflow__MetaGraphDef.self)
        tensorflow__meta_graph_def__init(meta)
        let message = ProtobufMessage(adopting: meta)
        let info = ProtobufCAllocation.allocate(Tensorflow__MetaGraphDef__MetaInfoDef.self)
        tensorflow__meta_graph_def__meta_info_def__init(info)
        (info.pointee.n_tags, info.pointee.tags) = ProtobufCAllocation.strings(tags)
        meta.pointee.meta_info_def = info

        let def = ProtobufCAllocation.allocate(Tensorflow__SignatureDef.self)
        tensorflow__signature_def__init(def)
        def.pointee.method_name = strdup(methodName)
        func tensorInfo(_ t: Tensor) -> UnsafeMutablePointer<Tensorflow__TensorInfo> {
            let i = ProtobufCAllocation.allocate(Tensorflow__TensorInfo.self)
            tensorflow__tensor_info__init(i)
            i.pointee.encoding_case = TENSORFLOW__TENSOR_INFO__ENCODING_NAME
            i.pointee.name = strdup(t.name)
            i.pointee.dtype = Tensorflow__DataType(rawValue: UInt32(bitPattern: t.dtype))
            i.pointee.tensor_shape = ProtobufNodeDefCodec.build(shape: t.shape)
            return i
        }
        let ins = inputs.map { t -> UnsafeMutablePointer<Tensorflow__SignatureDef__InputsEntry> in
            let e = ProtobufCAllocation.allocate(Tensorflow__SignatureDef__InputsEntry.self)
            tensorflow__signature_def__inputs_entry__init(e)
            e.pointee.key = strdup(t.key)
            e.pointee.value = tensorInfo(t)
            return e
        }
        (def.pointee.n_inputs, def.pointee.inputs) = ProtobufCAllocation.pointerArray(ins)
        let outs = outputs.map { t -> UnsafeMutablePointer<Tensorflow__SignatureDef__OutputsEntry> in
            let e = ProtobufCAllocation.allocate(Tensorflow__SignatureDef__OutputsEntry.self)
            tensorflow__signature_def__outputs_entry__init(e)
            e.pointee.key = strdup(t.key)
            e.pointee.value = tensorInfo(t)
            return e
        }
        (def.pointee.n_outputs, def.pointee.outputs) = ProtobufCAllocation.pointerArray(outs)
        let entry = ProtobufCAllocation.allocate(Tensorflow__MetaGraphDef__SignatureDefEntry.self)
        tensorflow__meta_graph_def__signature_def_entry__init(entry)
        entry.pointee.key = strdup(signature)
        entry.pointee.value = def
        (meta.pointee.n_signature_def, meta.pointee.signature_def) = ProtobufCAllocation.pointerArray([entry])

        var metaBytes = message.packed()
        metaBytes += ProtobufWire.lengthDelimitedHeader(field: 2, length: graph.count)
        metaBytes += graph
        // SavedModel: saved_model_schema_version = 1 (field 1, varint), meta_graphs (field 2).
        return [0x08, 0x01] + ProtobufWire.lengthDelimitedHeader(field: 2, length: metaBytes.count) + metaBytes
    }
}
