/// Rewrites a graph being frozen so that constant-predicate `tf.cond` control flow is gone from
/// its live part: each node reads, in place of a resolved `Switch`'s live output or a resolved
/// `Merge`, the tensor it forwards (``ConstantConditions`` works out which ones are). Nodes of the
/// dead branch are left unread, for the freezer's pruning to drop.
enum ConstantSwitches {
    /// Rewrites the data inputs of `nodes` (a name-keyed graph, walked in topological `order`) so
    /// that nothing reads a constant-predicate `Switch` or a resolved `Merge`; returns how many
    /// Switches were resolved, and where each resolved output now comes from (so a graph output
    /// that was a Merge can be rewired).
    static func resolve(_ nodes: inout [String: FreezableNode], order: [String]) -> (count: Int, alias: [TensorReference: TensorReference]) {
        let conditions = ConstantConditions(order: order) { nodes[$0] }
        guard !conditions.switches.isEmpty else { return (0, [:]) }
        var alias = [TensorReference: TensorReference]()
        for (name, s) in conditions.switches {
            let live = TensorReference(node: name, index: s.live)
            alias[live] = conditions.source(of: live)
        }
        for name in conditions.merges.keys {
            let output = TensorReference(node: name)
            alias[output] = conditions.source(of: output)
        }
        for name in order {
            guard var node = nodes[name] else { continue }
            var changed = false
            node.inputs = node.inputs.map { text in
                guard let r = TensorReference(text), let t = alias[r] else { return text }
                changed = true
                return t.text
            }
            if changed { nodes[name] = node }
        }
        return (conditions.switches.count, alias)
    }
}
