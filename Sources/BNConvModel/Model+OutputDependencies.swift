import BNConvCore

extension Model {
    /// Per node (by index), whether some model output depends on it: the nodes a run must
    /// compute. A node no output depends on never runs; a reader leaves such nodes in a model when
    /// the file holds computations that do not run, such as the untaken branch of a TensorFlow
    /// `tf.cond` whose predicate is a constant (the writer still writes them back). One walk back
    /// from the outputs, linear in nodes and inputs.
    package func nodesTheOutputsNeed() -> [Bool] {
        var producer = [String: Int](minimumCapacity: nodes.count)
        for (i, node) in nodes.enumerated() {
            for output in node.outputs where producer[output] == nil { producer[output] = i }
        }
        var needed = [Bool](repeating: false, count: nodes.count)
        var pending = outputs.compactMap { producer[$0] }
        while let i = pending.popLast() {
            guard !needed[i] else { continue }
            needed[i] = true
            for input in nodes[i].inputs {
                if let p = producer[input], !needed[p] { pending.append(p) }
            }
        }
        return needed
    }
}
