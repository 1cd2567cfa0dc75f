import CBNConvProto
import CProtobufC
import BNConvCore

/// A SavedModel's `saved_model.pb` (tensorflow/core/protobuf/saved_model.proto): its schema version
/// and one MetaGraphDef per tag set, each read by ``ProtobufMetaGraph``.
package struct ProtobufSavedModel: Sendable {
    /// `saved_model_schema_version` (1).
    package var schemaVersion: Int64
    /// The graphs, in file order.
    package var metaGraphs: [ProtobufMetaGraph]

    /// Reads `bytes`; `file` names `saved_model.pb` in errors.
    package init(bytes: [UInt8], file: String) throws {
        let refusal = { (why: String) in CheckpointError(.malformed, file: file, problem: "not a TensorFlow SavedModel: \(why)") }
        guard !bytes.isEmpty else { throw refusal("the file is empty") }
        var version: Int64 = 0
        var graphs = [ProtobufMetaGraph]()
        try bytes.withUnsafeBytes { raw in
            guard let fields = ProtobufWire.fields(in: raw, 0..<raw.count) else {
                throw refusal("the protobuf wire format is broken (a truncated field or a length past the end)")
            }
            for f in fields {
                switch (f.number, f.wireType) {
                case (1, 0):
                    var offset = f.payload.lowerBound
                    version = Int64(bitPattern: ProtobufWire.decodeVarint(raw, at: &offset, end: f.payload.upperBound) ?? 0)
                case (2, 2):
                    graphs.append(try ProtobufMetaGraph.parse(UnsafeRawBufferPointer(rebasing: raw[f.payload]), file: file,
                                                              place: "meta_graphs[\(graphs.count)]"))
                case (1, _), (2, _):
                    throw refusal("field \(f.number) has the wrong wire type")
                default:
                    continue
                }
            }
        }
        guard !graphs.isEmpty else { throw refusal("it holds no MetaGraphDef") }
        schemaVersion = version
        metaGraphs = graphs
    }
}
