import BNConvCore

extension Model {
    /// Whether any weight is still deferred in its file (a model read for streaming).
    public var hasDeferredWeights: Bool {
        nodes.contains { $0.weights.contains { $0.tensor.isDeferred } }
    }

    /// The same model with every deferred weight loaded (read failures throw); the model itself
    /// when none is deferred.
    public func withLoadedWeights() throws -> Model {
        try withLoadedWeights(except: { _, _ in false })
    }

    /// The same model with every deferred weight loaded but those `keep` says stay deferred (given
    /// the node and the weight): a runner that reads those from their file when it needs them.
    public func withLoadedWeights(except keep: (Node, Weight) -> Bool) throws -> Model {
        guard hasDeferredWeights else { return self }
        var model = self
        for n in model.nodes.indices {
            for w in model.nodes[n].weights.indices where model.nodes[n].weights[w].tensor.isDeferred
                && !keep(model.nodes[n], model.nodes[n].weights[w]) {
                model.nodes[n].weights[w].tensor = try model.nodes[n].weights[w].tensor.materialized()
            }
        }
        return model
    }
}
