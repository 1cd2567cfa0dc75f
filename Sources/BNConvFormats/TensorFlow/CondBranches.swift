import BNConvInterop

/// Which branch of a constant-predicate `tf.cond` each NodeDef of a graph sits in, and that branch
/// in words, for `inspect`.
///
/// A branch is named by the Switch output that opens it (`cond/Switch:1`: the true branch). A
/// node is in the branch of its first data input that is in one; a resolved Switch output opens
/// its branch; a Merge closes the branch of its inputs (it sits where the Switch feeding them
/// sits). v1 `tf.cond` names a cond's predicate `<cond>/pred_id`, which gives the cond's name.
struct CondBranches {
    /// The graph.
    private let graph: GraphDefGraph
    /// The branch (the Switch output opening it) of each NodeDef that sits in one, by name.
    private var branchOf: [String: TensorReference] = [:]

    /// The branches of `graph`'s nodes (of its resolved Switches' branches only).
    init(graph: GraphDefGraph) {
        self.graph = graph
        let conditions = graph.conditions
        var branchOf = [String: TensorReference]()
        func branch(_ r: TensorReference) -> TensorReference? { conditions.switches[r.node] != nil ? r : branchOf[r.node] }
        for i in graph.order {
            let n = graph.nodes[i]
            let inputs = graph.dataInputs(i).compactMap { TensorReference($0.value) }
            if let s = conditions.switches[n.name] {
                // The Switch sits where its data comes from.
                branchOf[n.name] = branch(s.data)
            } else if n.op == "Merge" || n.op == "RefMerge" {
                // Where the Switch opening its inputs' branch sits.
                if let opened = inputs.first(where: { branch($0) != nil }).flatMap(branch) {
                    branchOf[n.name] = branchOf[opened.node]
                }
            } else if let b = inputs.first(where: { branch($0) != nil }).flatMap(branch) {
                branchOf[n.name] = b
            }
        }
        self.branchOf = branchOf
    }

    /// The branch tensor `r` is in: the resolved Switch output itself, or its producer's branch.
    private func branch(ofValue r: TensorReference) -> TensorReference? {
        graph.conditions.switches[r.node] != nil ? r : branchOf[r.node]
    }

    /// The branch the value named `value` (`node` or `node:k`) is in, in words; nil outside one.
    func description(ofValue value: String) -> String? {
        guard let r = TensorReference(value), let b = branch(ofValue: r), let s = graph.conditions.switches[b.node] else { return nil }
        let cond = condName(of: b.node, predicate: s.predicateInput)
        let side = b.index == 1 ? "true" : "false"
        let taken = b.index == s.live
        let value = s.predicate.value
        if let placeholder = s.predicate.placeholder {
            let why = "its predicate is \(value), the default of PlaceholderWithDefault '\(placeholder)'"
            return taken ? "\(side) branch of tf.cond '\(cond)', taken: \(why) (feeding \(!value) takes the other branch)"
                         : "\(side) branch of tf.cond '\(cond)', not taken: \(why) (it runs only when \(!value) is fed)"
        }
        let why = "its predicate is the constant \(value)"
        return taken ? "\(side) branch of tf.cond '\(cond)', taken: \(why)" : "\(side) branch of tf.cond '\(cond)', never taken: \(why)"
    }

    /// The name of the `tf.cond` a Switch belongs to: the scope of its `<cond>/pred_id`
    /// predicate, else the Switch's own name.
    private func condName(of switchNode: String, predicate: TensorReference) -> String {
        predicate.node.hasSuffix("/pred_id") ? String(predicate.node.dropLast("/pred_id".count)) : switchNode
    }
}
