/// A graph frozen from a checkpoint: the GraphDef message (variables as constants, only what the
/// outputs need) and what the freezing did.
struct FrozenGraph {
    /// The GraphDef message's bytes.
    var bytes: [UInt8]
    /// The placeholders the outputs need.
    var inputs: [String]
    /// The output tensors, as GraphDef references.
    var outputs: [String]
    /// Each variable made a constant: (node, checkpoint key).
    var variables: [(node: String, key: String)]
    /// Function calls inlined.
    var inlinedCalls: Int
    /// `Switch`es with a constant predicate resolved.
    var resolvedSwitches: Int
    /// BatchNorms left normalizing by batch statistics (without `assumeInference`).
    var batchStatistics: [BatchStatistics]
    /// BatchNorms rewired from batch statistics to moving statistics (`assumeInference`).
    var rewired: [String]
}
