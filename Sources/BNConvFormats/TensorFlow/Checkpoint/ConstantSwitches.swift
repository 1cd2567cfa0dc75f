import BNConvInterop

/// Resolves `tf.cond` control flow whose predicate is a constant (a bool `Const`, or the default
/// of a bool `PlaceholderWithDefault` such as `tf.layers`' `training` flag once frozen for
/// inference): each `Switch` forwards its data to the live branch only, nodes fed by the dead
/// branch are dead, and each `Merge` with one live input becomes that input
/// (tensorflow/core/ops/control_flow_ops.cc for the ops' semantics).
enum ConstantSwitches {
    /// Rewrites the data inputs of `nodes` (a name-keyed graph, walked in topological `order`) so
    /// that nothing reads a constant-predicate `Switch` or a resolved `Merge`; returns how many
    /// Switches were resolved, and where each resolved output now comes from (so a graph output
    /// that was a Merge can be rewired). Nodes left unread are for the caller's pruning to drop.
    static func resolve(_ nodes: inout [String: FreezableNode], order: [String]) -> (count: Int, alias: [TensorReference: TensorReference]) {
        var alias = [TensorReference: TensorReference]()
        var deadRefs = Set<TensorReference>()
        var deadNodes = Set<String>()
        var resolved = 0
        func target(_ r: TensorReference) -> TensorReference {
            var r = r
            var steps = 0
            while let next = alias[r], steps < 10_000 { r = next; steps += 1 }
            return r
        }
        func isDead(_ r: TensorReference) -> Bool { deadNodes.contains(r.node) || deadRefs.contains(r) }
        for name in order {
            guard var node = nodes[name] else { continue }
            var changed = false
            node.inputs = node.inputs.map { text in
                guard let r = TensorReference(text) else { return text }
                let t = target(r)
                if t != r { changed = true }
                return t.text
            }
            if changed { nodes[name] = node }
            let data = node.dataInputs
            switch node.op {
            case "Switch", "RefSwitch":
                guard data.count == 2, !isDead(data[0]), let p = constantBool(data[1], nodes) else { break }
                let live = p ? 1 : 0
                alias[TensorReference(node: name, index: live)] = data[0]
                deadRefs.insert(TensorReference(node: name, index: 1 - live))
                resolved += 1
                continue
            case "Merge", "RefMerge":
                let live = data.filter { !isDead($0) }
                if live.count == 1, live.count < data.count {
                    alias[TensorReference(node: name, index: 0)] = live[0]
                    continue
                }
            default:
                break
            }
            if data.contains(where: isDead) { deadNodes.insert(name) }
        }
        return (resolved, alias)
    }

    /// The value of `r` when it is a constant bool scalar (through Identity, bool
    /// PlaceholderWithDefault and LogicalNot).
    static func constantBool(_ r: TensorReference, _ nodes: [String: FreezableNode], depth: Int = 0) -> Bool? {
        guard depth < 64, r.index == 0, let n = nodes[r.node] else { return nil }
        switch n.op {
        case "Const":
            guard case .tensor(let t)? = n.attribute("value"), t.dtype == TensorFlowDataType.bool else { return nil }
            if let b = t.boolValues.first { return b }
            if let byte = t.content.first { return byte != 0 }
            return (t.shape ?? []).isEmpty && t.content.isEmpty ? false : nil
        case "Identity", "PlaceholderWithDefault", "StopGradient":
            guard let input = n.dataInputs.first else { return nil }
            return constantBool(input, nodes, depth: depth + 1)
        case "LogicalNot":
            guard let input = n.dataInputs.first, let v = constantBool(input, nodes, depth: depth + 1) else { return nil }
            return !v
        default:
            return nil
        }
    }
}
