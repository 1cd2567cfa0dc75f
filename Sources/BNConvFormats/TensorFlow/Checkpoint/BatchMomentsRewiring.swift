import BNConvInterop

/// Finds the BatchNorms of a graph that normalize by batch statistics, and rewires them to the
/// moving statistics their update ops maintain (`--assume-inference`): the "every prediction is
/// the same class at batch size 1" fix.
///
/// Two makings are recognized:
/// - `FusedBatchNorm*` with `is_training` true (absent: TensorFlow's default, true): outputs 1 and
///   2 are the batch mean and variance; the update ops (`AssignMovingAvg`: `AssignSub(v, (v -
///   batch_mean) * (1 - momentum))`, or an assign of `v * decay + batch_mean * (1 - decay)`) read
///   them. Rewired: `is_training` false, inputs 3 and 4 the moving variables.
/// - `tf.nn.moments` feeding `tf.nn.batch_normalization` (hand-made `pop_mean`/`pop_var` updated by
///   `tf.assign(pop_mean, pop_mean * decay + batch_mean * (1 - decay))`): a tensor that a node of
///   the inference path reads and that an update op of variable `v` blends with `v` itself.
///   Rewired: those readers read `v`.
///
/// An update op is an assign (`Assign`, `AssignSub`, `AssignAdd`, `AssignVariableOp`,
/// `AssignSubVariableOp`, `AssignAddVariableOp`) whose value expression (searched up to a few
/// nodes back) reads both the variable it assigns and the batch tensor.
enum BatchMomentsRewiring {
    /// The assign ops.
    static let assignOps: Set<String> = ["Assign", "AssignSub", "AssignAdd", "AssignVariableOp", "AssignSubVariableOp", "AssignAddVariableOp"]
    /// The fused BatchNorm ops.
    static let fusedOps: Set<String> = ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"]
    /// How far back an update's value expression is searched.
    static let searchDepth = 8

    /// The batch-statistics BatchNorms among `needed` nodes of `nodes`.
    static func find(_ nodes: [String: FreezableNode], needed: Set<String>, order: [String]) -> [BatchStatistics] {
        analyse(nodes, needed: needed, order: order).map(\.found)
    }

    /// Rewires every batch-statistics BatchNorm among `needed` to its moving variables; a BN without
    /// a moving variable for each statistic is an error. Returns what was rewired.
    static func rewire(_ nodes: inout [String: FreezableNode], needed: Set<String>, order: inout [String]) throws -> [String] {
        var done = [String]()
        for (found, readers) in analyse(nodes, needed: needed, order: order) {
            let missing = found.statistics.filter { $0.movingVariable == nil }.map(\.tensor)
            guard missing.isEmpty else {
                throw FreezeError("\(found.description): no update op keeps a moving value of \(missing.joined(separator: ", ")), so --assume-inference has nothing to use")
            }
            // Each moving variable read as a value (a resource one through a new ReadVariableOp).
            var readOf = [String: String]()
            for s in found.statistics {
                let v = s.movingVariable!
                guard readOf[v] == nil, let variable = nodes[v] else { continue }
                if variable.op == "VarHandleOp" {
                    var name = v + "/read_for_inference"
                    var k = 1
                    while nodes[name] != nil { name = v + "/read_for_inference_\(k)"; k += 1 }
                    var read = FreezableNode(name: name, op: "ReadVariableOp", inputs: [v], attributes: [])
                    if let d = variable.attribute("dtype") { read.set("dtype", d) }
                    nodes[name] = read
                    order.append(name)
                    readOf[v] = name
                } else {
                    readOf[v] = v
                }
            }
            if var bn = nodes[found.node], fusedOps.contains(bn.op) {
                var inputs = bn.inputs
                guard inputs.count >= 5 else { throw FreezeError("'\(bn.name)' (\(bn.op)) has \(inputs.count) inputs, expected 5") }
                inputs[3] = readOf[found.statistics[0].movingVariable!]!
                inputs[4] = readOf[found.statistics[1].movingVariable!]!
                bn.inputs = inputs
                bn.set("is_training", .bool(false))
                nodes[bn.name] = bn
            } else {
                for s in found.statistics {
                    let replacement = readOf[s.movingVariable!]!
                    for reader in readers[s.tensor] ?? [] {
                        guard var n = nodes[reader] else { continue }
                        n.inputs = n.inputs.map { TensorReference($0)?.text == s.tensor ? replacement : $0 }
                        nodes[reader] = n
                    }
                }
            }
            done.append(found.description)
        }
        return done
    }

    /// Each batch-statistics BN with, for moments ones, the needed readers of each statistic.
    private static func analyse(_ nodes: [String: FreezableNode], needed: Set<String>, order: [String]) -> [(found: BatchStatistics, readers: [String: [String]])] {
        // Every update op: (assigned variable, tensors its value expression reads, by depth).
        var updates = [(variable: String, reads: [TensorReference: Int])]()
        for name in order {
            guard let n = nodes[name], assignOps.contains(n.op), n.dataInputs.count >= 2,
                  let variable = variableBehind(n.dataInputs[0], nodes) else { continue }
            var reads = [TensorReference: Int]()
            var frontier = [(n.dataInputs[1], 0)]
            while !frontier.isEmpty {
                let (r, depth) = frontier.removeFirst()
                guard reads[r] == nil else { continue }
                reads[r] = depth
                guard depth < searchDepth, let p = nodes[r.node] else { continue }
                frontier += p.dataInputs.map { ($0, depth + 1) }
            }
            // A moving average blends the variable's own value (AssignSub(v, (v - x) * d) reads v too).
            let blends = reads.keys.contains { variableBehind($0, nodes) == variable } || n.op.hasPrefix("AssignSub")
            if blends { updates.append((variable, reads)) }
        }
        func moving(_ t: TensorReference) -> String? { updates.first { $0.reads[t] != nil }?.variable }

        var result = [(found: BatchStatistics, readers: [String: [String]])]()
        // Fused BNs in training mode.
        for name in order where needed.contains(name) {
            guard let n = nodes[name], fusedOps.contains(n.op) else { continue }
            let training: Bool
            if case .bool(let b)? = n.attribute("is_training") { training = b } else { training = true }
            guard training else { continue }
            let stats = [1, 2].map { k -> (tensor: String, movingVariable: String?) in
                let t = TensorReference(node: name, index: k)
                return (t.text, moving(t))
            }
            result.append((BatchStatistics(node: name, statistics: stats), [:]))
        }
        // Batch moments read on the inference path and blended into a moving variable: per update,
        // the tensor nearest to it that the path reads and that a reduction (`tf.nn.moments`' Mean,
        // and its Squeeze) makes.
        var readers = [TensorReference: [String]]()
        for name in order where needed.contains(name) {
            guard let n = nodes[name], !assignOps.contains(n.op) else { continue }
            for r in n.dataInputs { readers[r, default: []].append(name) }
        }
        var byReader = [String: [(tensor: String, movingVariable: String?)]]()
        var readersOf = [String: [String]]()
        for update in updates {
            let candidates = update.reads.filter { t, _ in
                guard readers[t] != nil, let p = nodes[t.node], momentOps.contains(p.op) else { return false }
                return true
            }
            guard let (t, _) = candidates.min(by: { ($0.value, $0.key.text) < ($1.value, $1.key.text) }),
                  readersOf[t.text] == nil else { continue }
            let rs = readers[t]!.sorted()
            // Named by the scope of its first reader (`layer1/batchnorm` for `layer1/batchnorm/mul_2`).
            let scope = rs[0].split(separator: "/").dropLast().joined(separator: "/")
            byReader[scope.isEmpty ? rs[0] : scope, default: []].append((t.text, update.variable))
            readersOf[t.text] = rs
        }
        for (reader, stats) in byReader.sorted(by: { $0.key < $1.key }) {
            result.append((BatchStatistics(node: reader, statistics: stats), readersOf))
        }
        return result
    }

    /// The ops making a batch moment (`tf.nn.moments`: Mean, then Squeeze unless keep_dims).
    private static let momentOps: Set<String> = ["Mean", "Squeeze", "Reshape"]

    /// The ops that hold a variable.
    private static let variableOps = GraphFreezer.variableOps

    /// The variable node `r` reads, through `Identity` / `ReadVariableOp`; nil when it is not a variable.
    private static func variableBehind(_ r: TensorReference, _ nodes: [String: FreezableNode]) -> String? {
        var current = r
        for _ in 0..<8 {
            guard let n = nodes[current.node] else { return nil }
            if variableOps.contains(n.op) { return n.name }
            guard n.op == "Identity" || n.op == "ReadVariableOp", let next = n.dataInputs.first else { return nil }
            current = next
        }
        return nil
    }
}
