import BNConvCore
import BNConvModel
import BNConvInterop

/// The record of one ``Node`` read from a GraphDef: which NodeDefs it stands for and how its
/// inputs and weights map onto them (the node as read, which the writer compares the edited one
/// with, is the model's ``Model/asRead`` outline).
///
/// A class: the reader's table of records (``GraphDefSource``) and the node share one, instead of
/// each holding a copy (a 100,000-node graph's table held 31 MB of copies).
public final class GraphDefNodeRecord: SourceRecord {
    /// Where a ``Node`` input is read in the graph: input `index` of the NodeDef `nodeDef`.
    struct InputSlot: Sendable, Equatable {
        /// The NodeDef's name.
        var nodeDef: String
        /// The position in its input list.
        var index: Int
    }

    /// The NodeDefs this node computes, in graph order (e.g. `Conv2D`, `BiasAdd`).
    public let nodeDefNames: [String]
    /// Const and shape-only NodeDefs that feed only this node's weights or constant operands
    /// (removed with the node when nothing else reads them).
    public let auxiliaryNames: [String]
    /// The original NodeDefs this node computes, as read.
    let nodeDefs: [ProtobufNodeDef]
    /// Where each of the node's inputs is read, in the node's input order.
    let inputSlots: [InputSlot]
    /// Other places each input is read by NodeDefs that go with this node (the `Shape` of a
    /// Flatten's batch size, of a transposed conv's output size): rewired together with it.
    let mirrorSlots: [[InputSlot]]
    /// The NodeDef whose first output is the node's output (a new BiasAdd goes after it).
    let outputNodeDef: String
    /// The `data_format` a new BiasAdd gets (`NHWC` or `NCHW`).
    let dataFormat: String
    /// The TensorFlow data type of the node's output (`T`).
    let dataType: Int32
    /// The stored dimensions of each weight's Const, by storage key (a weight tensor may be a
    /// flattened view of it).
    let storedDims: [String: [Int]]
    /// The branch of a constant-predicate `tf.cond` the node sits in, in words (taken or not, and
    /// why); nil outside one.
    public let branch: String?

    init(nodeDefNames: [String], auxiliaryNames: [String], nodeDefs: [ProtobufNodeDef], inputSlots: [InputSlot],
         mirrorSlots: [[InputSlot]], outputNodeDef: String, dataFormat: String, dataType: Int32,
         storedDims: [String: [Int]], branch: String? = nil) {
        self.nodeDefNames = nodeDefNames
        self.auxiliaryNames = auxiliaryNames
        self.nodeDefs = nodeDefs
        self.inputSlots = inputSlots
        self.mirrorSlots = mirrorSlots
        self.outputNodeDef = outputNodeDef
        self.dataFormat = dataFormat
        self.dataType = dataType
        self.storedDims = storedDims
        self.branch = branch
    }
}

extension GraphDefNodeRecord: BranchDescription {}
