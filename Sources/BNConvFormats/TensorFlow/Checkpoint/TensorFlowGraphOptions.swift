/// How a TensorFlow checkpoint or SavedModel becomes a model: which graph, which outputs, and
/// whether batch-statistics BatchNorms are rewired to their moving statistics. Part of
/// ``ReadOptions``; the defaults suit a graph that says its outputs (a SavedModel signature) or
/// has one plain output.
public struct TensorFlowGraphOptions: Sendable, Equatable {
    /// The MetaGraphDef to use with a checkpoint (`--meta`); by default `PREFIX.meta`.
    public var metaGraph: String?
    /// The output nodes or tensors (`--outputs logits,probs`); by default the signature's outputs,
    /// else the graph's one plausible output (the error lists the candidates when there are several).
    public var outputs: [String]?
    /// The SavedModel signature (`--signature`); by default `serving_default`, else the only one.
    public var signature: String?
    /// The SavedModel tag set (`--tags serve`); by default `serve`, else the only graph.
    public var tags: [String]?
    /// Rewire BatchNorms that normalize by batch statistics to the moving statistics their update
    /// ops maintain (`--assume-inference`); without it such a graph reads, but a fold or a freeze
    /// refuses it.
    public var assumeInference: Bool

    /// Options with every choice left to the file.
    public init(metaGraph: String? = nil, outputs: [String]? = nil, signature: String? = nil, tags: [String]? = nil, assumeInference: Bool = false) {
        self.metaGraph = metaGraph
        self.outputs = outputs
        self.signature = signature
        self.tags = tags
        self.assumeInference = assumeInference
    }
}
