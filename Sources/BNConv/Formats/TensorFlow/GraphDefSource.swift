/// The whole-file record of a ``Model`` read from a TensorFlow GraphDef: what ``GraphDefWriter``
/// needs to re-emit the file with a pass's edits.
public struct GraphDefSource: SourceRecord {
    /// The path the graph was read from.
    public let file: String
    /// The file's bytes as read; the writer unpacks them again, so untouched nodes (and fields the
    /// schema leaves out) are written back exactly.
    let bytes: [UInt8]
    /// Each node of the model as read, by name, so the writer can tell which ones a pass removed.
    let readNodes: [String: GraphDefNodeRecord]
    /// Every NodeDef name in the file (new names must avoid them).
    let nodeDefNames: Set<String>
}
