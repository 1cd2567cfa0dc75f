import BNConvCore
import BNConvModel
import BNConvInterop

/// The whole-file record of a ``Model`` read from a TensorFlow GraphDef: what ``GraphDefWriter``
/// needs to re-emit the file with a pass's edits.
public struct GraphDefSource: SourceRecord {
    /// The path the graph was read from.
    public let file: String
    /// The file as read, split into its fields: the writer copies untouched nodes (and fields the
    /// schema leaves out) from it byte for byte.
    let graph: ProtobufGraphDefFile
    /// Every NodeDef as read, in file order (constants' contents are views of the file's bytes).
    let nodeDefs: [ProtobufNodeDef]
    /// Each node of the model as read, by its name as read (the names ``ModelChanges/removed`` lists).
    let readNodes: [String: GraphDefNodeRecord]
    /// Every NodeDef name in the file (new names must avoid them).
    let nodeDefNames: Set<String>
    /// The bounds the file was read within (the writer decodes some constants again).
    let limits: ReadLimits
    /// How the graph was frozen from a TensorFlow checkpoint or SavedModel; nil for a `.pb` read as it is.
    public internal(set) var freezing: FreezeReport? = nil
}
