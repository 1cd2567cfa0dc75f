import BNConvCore
import BNConvModel
import BNConvInterop

/// One ``Node`` to be: the NodeDefs a pattern claimed, its op, inputs and weights.
struct GraphDefGroup {
    /// A weight read from a Const.
    struct WeightSource {
        /// The role it plays.
        var role: WeightRole
        /// The Const and the nodes between it and its reader.
        var path: GraphDefGraph.ConstantPath
        /// The kernel layout.
        var layout: KernelLayout
        /// Whether to flatten the stored tensor to one dimension (bias and BN vectors).
        var flatten: Bool
    }

    /// The node's name.
    var name: String
    /// What it computes.
    var op: Op
    /// The NodeDefs it computes (graph indices).
    var members: [Int]
    /// Const and shape-only NodeDefs feeding only its weights or constant operands.
    var auxiliary: [Int] = []
    /// Its inputs: value name and where it is read.
    var inputs: [(value: String, slot: GraphDefNodeRecord.InputSlot)] = []
    /// The NodeDef whose output 0 is the node's output.
    var output: Int
    /// Its weights.
    var weights: [WeightSource] = []
    /// How many outputs the node writes (`name`, `name:1`, ...), for an op-library op with several.
    var outputCount = 1
    /// The values the node writes when they are not the output NodeDef's own from output 0 on
    /// (a constant-predicate Switch writes its taken output, `cond/Switch:1`, or its untaken one).
    var outputValues: [String]? = nil
    /// The `data_format` of the op (for a BiasAdd a writer may add).
    var dataFormat: String = TensorFlowOpDefaults.dataFormat
}
