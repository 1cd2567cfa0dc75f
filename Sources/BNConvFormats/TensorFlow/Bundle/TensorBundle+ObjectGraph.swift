import BNConvCore
import BNConvInterop

extension TensorBundle {
    /// The key under which an object-based checkpoint (TF2, Keras `save_weights`, a TF2
    /// SavedModel's variables) stores its object graph.
    static let objectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH"

    /// The object graph stored under ``objectGraphKey``: nil for a name-based (TF1 `Saver`)
    /// checkpoint, which has none; an error naming `file` when it is not one serialized
    /// TrackableObjectGraph.
    func objectGraph(file: String) throws -> ProtobufTrackableObjectGraph? {
        guard entry(Self.objectGraphKey) != nil else { return nil }
        let stored = try strings(Self.objectGraphKey)
        guard stored.count == 1 else {
            throw CheckpointError(.malformed, file: file, place: Self.objectGraphKey, problem: "the object graph is \(stored.count) strings, not one")
        }
        return try ProtobufTrackableObjectGraph(bytes: stored[0], file: file)
    }
}
