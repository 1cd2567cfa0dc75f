import BNConvCore
import BNConvInterop

/// Freezes a TensorFlow graph for inference: the nodes the outputs need, every variable they read
/// made a `Const` holding its checkpoint value, resource reads (`ReadVariableOp`) made `Identity`s,
/// function calls inlined (``FunctionInliner``), constant-predicate control flow resolved
/// (``ConstantSwitches``), control inputs dropped. What `freeze_graph` /
/// `convert_variables_to_constants` do, plus the inlining of `convert_variables_to_constants_v2`.
///
/// Nodes the freezing does not change are written back as their NodeDef messages were read.
struct GraphFreezer {
    /// The ops that hold a variable.
    static let variableOps: Set<String> = ["VariableV2", "Variable", "VarHandleOp"]
    /// TensorFlow's DT_RESOURCE.
    static let resourceType: Int32 = 20

    /// An output to freeze: a tensor, and, for a signature output, the name of an `Identity` to
    /// give it (so the frozen graph's outputs carry the signature's keys).
    struct Output {
        /// The tensor.
        var tensor: TensorReference
        /// The Identity node's name, or nil to keep the tensor's own node as the output.
        var name: String?
    }

    /// The checkpoint value of a variable: (node name, checkpoint key, partition) -> its value, read
    /// only when its `Const` is written.
    typealias Values = (_ node: String, _ key: String, _ slice: ProtobufVariableDef.Slice?) throws -> FrozenValue

    /// The graph by node name.
    private var nodes: [String: FreezableNode]
    /// Node names in file order (inlined bodies after their call).
    private var order: [String]
    /// The graph's fields other than nodes and the function library (`versions`).
    private let otherFields: [UInt8]
    /// The graph's function library as read (field 2, with its key), kept when a call remains.
    private let libraryField: [UInt8]
    /// The library's functions.
    private let inliner: FunctionInliner

    /// A freezer of `graph`; `file` names the file in errors.
    init(graph: ProtobufGraphDefFile, file: String) throws {
        let defs = try graph.nodeDefs()
        var nodes = [String: FreezableNode]()
        nodes.reserveCapacity(defs.count)
        var order = [String]()
        for (k, def) in defs.enumerated() {
            guard nodes[def.name] == nil else { throw FreezeError("two nodes are named '\(def.name)'") }
            nodes[def.name] = FreezableNode(def, message: graph.nodeMessage(k))
            order.append(def.name)
        }
        self.nodes = nodes
        self.order = order
        otherFields = graph.otherFields(excluding: [2])
        let library = graph.payloads(ofField: 2)
        libraryField = graph.fieldBytes(numbered: 2)
        inliner = FunctionInliner(library: try ProtobufFunctionLibrary(bytes: library, file: file))
    }

    /// The node named `name`, as the graph holds it now.
    func node(_ name: String) -> FreezableNode? { nodes[name] }

    /// Every node name, in file order.
    var nodeNames: [String] { order }

    /// Freezes the graph for `outputs`. `variableKeys` maps a variable node to its checkpoint key
    /// (TF2 object-based checkpoints; by default a variable's key is its node name, as TF1's
    /// `Saver` writes it), `slices` a partition node to its place in the whole variable.
    mutating func freeze(outputs: [Output], variableKeys: [String: String] = [:], slices: [String: ProtobufVariableDef.Slice] = [:],
                         assumeInference: Bool = false, values: Values) throws -> FrozenGraph {
        guard !outputs.isEmpty else { throw FreezeError("no outputs to freeze") }
        var outputRefs = [TensorReference]()
        for o in outputs {
            guard nodes[o.tensor.node] != nil else { throw FreezeError("the output '\(o.tensor.text)' names no node of the graph") }
            if let name = o.name, name != o.tensor.node {
                let unique = uniqueName(name)
                var identity = FreezableNode(name: unique, op: "Identity", inputs: [o.tensor.text], attributes: [])
                if let t = outputType(o.tensor) { identity.set("T", .type(t)) }
                add(identity)
                outputRefs.append(TensorReference(node: unique))
            } else {
                outputRefs.append(o.tensor)
            }
        }
        // 1. What the outputs need, inlining each function call met.
        var callResults = [String: [TensorReference]]()
        var inlined = 0
        var needed = Set<String>()
        var pending = outputRefs.map(\.node)
        while let name = pending.popLast() {
            guard !needed.contains(name), let node = nodes[name] else {
                if nodes[name] == nil { throw FreezeError("a node reads '\(name)', which the graph does not hold") }
                continue
            }
            if let function = try inliner.callee(of: node) {
                let body = try inliner.inline(node, function)
                for n in body where n.name != name {
                    guard nodes[n.name] == nil else { throw FreezeError("inlining '\(name)' would make a second node named '\(n.name)'") }
                }
                for n in body { add(n) }
                callResults[name] = body.last!.dataInputs
                inlined += 1
                if inlined > 100_000 { throw FreezeError("more than 100000 function calls to inline (recursive functions?)") }
                pending.append(name)
                continue
            }
            needed.insert(name)
            pending += node.dataInputs.map(\.node)
        }
        // Readers of a call's results read the body's tensors directly: the IdentityN standing for
        // the call stays only when it is itself an output.
        if !callResults.isEmpty {
            func through(_ r: TensorReference) -> TensorReference {
                var r = r
                var steps = 0
                while let results = callResults[r.node], r.index < results.count, steps < 10_000 { r = results[r.index]; steps += 1 }
                return r
            }
            for name in needed {
                guard var node = nodes[name] else { continue }
                let rewritten = node.inputs.map { text in TensorReference(text).map { through($0).text } ?? text }
                if rewritten != node.inputs { node.inputs = rewritten; nodes[name] = node }
            }
            needed = try reachable(from: outputRefs)
        }
        // Constant-predicate control flow (before the batch-statistics search: a `training` flag's
        // default decides which BatchNorm runs).
        let topological = try topologicalOrder(needed)
        let (switches, alias) = ConstantSwitches.resolve(&nodes, order: topological)
        if switches > 0 {
            for r in outputRefs where r.index == 0 {
                guard let target = alias[r], var node = nodes[r.node] else { continue }
                node.op = "Identity"
                node.inputs = [target.text]
                nodes[r.node] = node
            }
            needed = try reachable(from: outputRefs)
        }
        // BatchNorms normalizing by batch statistics: found, and with `assumeInference` rewired to
        // their moving statistics (before the variables are frozen: those are often read only now).
        let batchStatistics = BatchMomentsRewiring.find(nodes, needed: needed, order: order)
        var rewired = [String]()
        if assumeInference, !batchStatistics.isEmpty {
            rewired = try BatchMomentsRewiring.rewire(&nodes, needed: needed, order: &order)
            needed = try reachable(from: outputRefs)
        }
        // 2. Variables become constants; their resource reads become Identities.
        var frozen = [(node: String, key: String)]()
        var handles = Set<String>()
        for name in order where needed.contains(name) {
            guard let node = nodes[name] else { continue }
            let isResourcePlaceholder = node.op == "Placeholder" && node.attribute("dtype") == .type(Self.resourceType)
            guard Self.variableOps.contains(node.op) || (isResourcePlaceholder && variableKeys[name] != nil) else { continue }
            let key = variableKeys[name] ?? slices[name]?.fullName ?? name
            var constant = FreezableNode(constant: name, value: try values(name, key, slices[name]))
            constant.device = node.device
            nodes[name] = constant
            frozen.append((name, key))
            if node.op == "VarHandleOp" || isResourcePlaceholder { handles.insert(name) }
        }
        // A partitioned variable read whole (`ConcatV2` of its parts, as `PartitionedVariable`
        // reads it): one constant of the whole variable, as the checkpoint stores it.
        for name in order where needed.contains(name) {
            guard let node = nodes[name], node.op == "ConcatV2", let whole = wholeVariable(concatenatedBy: node, slices: slices) else { continue }
            nodes[name] = FreezableNode(constant: name, value: try values(name, whole, nil))
            frozen.append((name, whole))
        }
        for name in order where needed.contains(name) {
            guard var node = nodes[name] else { continue }
            let readsHandle = node.dataInputs.contains { handles.contains($0.node) }
            guard readsHandle else { continue }
            guard node.op == "ReadVariableOp" || node.op == "Identity" else {
                throw FreezeError("node '\(name)' (\(node.op)) uses a resource variable in a way freezing does not support (only ReadVariableOp reads are)")
            }
            if node.op == "ReadVariableOp" {
                let dtype = node.attribute("dtype")
                node.op = "Identity"
                node.removedAttributes.append("dtype")
                if let dtype { node.set("T", dtype) }
                nodes[name] = node
            }
        }
        // 3. The frozen graph: control inputs dropped, nodes in topological order.
        needed = try reachable(from: outputRefs)
        frozen.removeAll { !needed.contains($0.node) }
        let sorted = try topologicalOrder(needed)
        var inputs = [String]()
        var keepsCalls = false
        for name in sorted {
            guard let node = nodes[name] else { continue }
            if node.op == "Placeholder" || (node.op == "PlaceholderWithDefault" && ConstantConditions.constantBool(TensorReference(node: name), node: { nodes[$0] }) == nil) {
                inputs.append(name)
            }
            if FunctionInliner.callOps.contains(node.op) || ["If", "StatelessIf", "While", "StatelessWhile"].contains(node.op) { keepsCalls = true }
        }
        // Each node is encoded straight into the graph's bytes and let go of, so a constant's value
        // is held once (as itself, then as its bytes in the graph), never twice over for every node.
        var bytes = [UInt8]()
        bytes.reserveCapacity(sorted.reduce(otherFields.count + libraryField.count) { total, name in
            total + (nodes[name]?.pendingValue?.byteCount ?? 0) + 256
        })
        for name in sorted {
            guard var node = nodes.removeValue(forKey: name) else { continue }
            if node.inputs.contains(where: { $0.hasPrefix("^") }) { node.inputs.removeAll { $0.hasPrefix("^") } }
            ProtobufNodeDefBytes.appendNode(try node.encoded(), to: &bytes)
        }
        bytes += otherFields + (keepsCalls ? libraryField : [])
        return FrozenGraph(bytes: bytes, inputs: inputs, outputs: outputRefs.map(\.text), variables: frozen,
                           inlinedCalls: inlined, resolvedSwitches: switches, batchStatistics: assumeInference ? [] : batchStatistics, rewired: rewired)
    }

    /// Ops that are never a model's output: variables and their assigns, savers, summaries,
    /// initializers, optimizer steps, assertions.
    static let nonOutputOps: Set<String> = [
        "NoOp", "Assign", "AssignAdd", "AssignSub", "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp",
        "VariableV2", "Variable", "VarHandleOp", "VarIsInitializedOp", "IsVariableInitialized", "ReadVariableOp",
        "SaveV2", "RestoreV2", "MergeV2Checkpoints", "SaveSlices", "Restore", "RestoreSlice", "ShardedFilename", "StringJoin",
        "ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummary", "MergeSummary", "TensorSummary", "TensorSummaryV2",
        "Assert", "Print", "PrintV2", "Const", "Placeholder", "PlaceholderWithDefault", "Shape", "ShapeN", "Size", "Rank",
    ]

    /// The nodes that could be the graph's output: nothing reads them, they depend on a
    /// placeholder, and they are not training, saving or summary machinery (``nonOutputOps``,
    /// `Apply*` optimizer ops, names under `gradients/`, `save/`, or an optimizer's scope); of
    /// those, the ones needing no placeholder beyond another candidate's (a loss needs the labels
    /// as well as the input: the logits are the output). `excluding` names nodes known to be
    /// something else (the `update_ops` and `train_op` collections).
    func plausibleOutputs(excluding: Set<String> = []) -> [String] {
        var read = Set<String>()
        for name in order { for r in nodes[name]!.dataInputs { read.insert(r.node) } }
        // Forward from the placeholders.
        var readers = [String: [String]]()
        for name in order { for r in nodes[name]!.dataInputs { readers[r.node, default: []].append(name) } }
        var fed = Set<String>()
        var pending = order.filter { nodes[$0]!.op == "Placeholder" }
        while let n = pending.popLast() {
            guard fed.insert(n).inserted else { continue }
            pending += readers[n] ?? []
        }
        let candidates = order.filter { name in
            let op = nodes[name]!.op
            return !read.contains(name) && fed.contains(name) && !Self.nonOutputOps.contains(op) && !excluding.contains(name)
                && !op.hasPrefix("Apply") && !op.hasPrefix("ResourceApply") && !op.hasSuffix("Summary")
                && !name.hasPrefix("gradients/") && !name.hasPrefix("save/") && !name.contains("/gradients/")
        }
        let feeds = candidates.map { name -> Set<String> in
            ((try? reachable(from: [TensorReference(node: name)])) ?? []).filter { nodes[$0]?.op == "Placeholder" }
        }
        return candidates.indices.filter { i in
            !candidates.indices.contains { j in j != i && feeds[j].isStrictSubset(of: feeds[i]) }
        }.map { candidates[$0] }
    }

    /// The checkpoint key of the partitioned variable `concat` joins whole: its data inputs but the
    /// last (the axis) are, in order and through `Identity` reads, every part of one variable,
    /// laid end to end along the axis its parts split; nil otherwise.
    private func wholeVariable(concatenatedBy concat: FreezableNode, slices: [String: ProtobufVariableDef.Slice]) -> String? {
        let inputs = concat.dataInputs
        guard inputs.count >= 3 else { return nil }
        var parts = [ProtobufVariableDef.Slice]()
        for r in inputs.dropLast() {
            var current = r
            var steps = 0
            while let n = nodes[current.node], n.op == "Identity", let next = n.dataInputs.first, steps < 8 { current = next; steps += 1 }
            guard let slice = slices[current.node] else { return nil }
            parts.append(slice)
        }
        let full = parts[0]
        guard parts.allSatisfy({ $0.fullName == full.fullName && $0.fullShape == full.fullShape }) else { return nil }
        // The split axis: where the parts' offsets differ; they must tile it in order.
        let rank = full.fullShape.count
        guard let axis = (0..<rank).first(where: { d in parts.contains { $0.offset.count == rank && $0.offset[d] != 0 } }) ?? (rank > 0 ? 0 : nil) else { return nil }
        var next: Int64 = 0
        for p in parts {
            guard p.offset.count == rank, p.shape.count == rank, p.offset[axis] == next,
                  (0..<rank).allSatisfy({ $0 == axis || (p.offset[$0] == 0 && p.shape[$0] == full.fullShape[$0]) }) else { return nil }
            next += p.shape[axis]
        }
        return next == full.fullShape[axis] ? full.fullName : nil
    }

    /// The nodes `outputs` read, through data inputs.
    private func reachable(from outputs: [TensorReference]) throws -> Set<String> {
        var seen = Set<String>()
        var pending = outputs.map(\.node)
        while let name = pending.popLast() {
            guard !seen.contains(name) else { continue }
            guard let node = nodes[name] else { throw FreezeError("a node reads '\(name)', which the graph does not hold") }
            seen.insert(name)
            pending += node.dataInputs.map(\.node)
        }
        return seen
    }

    /// `names` ordered so that every node follows the nodes it reads (Kahn's algorithm over data
    /// inputs, ties in file order); a cycle (a while loop) is an error.
    private func topologicalOrder(_ names: Set<String>) throws -> [String] {
        let list = order.filter { names.contains($0) }
        var position = [String: Int]()
        for (k, n) in list.enumerated() { position[n] = k }
        var indegree = [Int](repeating: 0, count: list.count)
        var readers = [[Int]](repeating: [], count: list.count)
        for (k, n) in list.enumerated() {
            for r in nodes[n]!.dataInputs {
                guard let p = position[r.node] else { continue }
                indegree[k] += 1
                readers[p].append(k)
            }
        }
        var ready = IndexHeap()
        for k in list.indices where indegree[k] == 0 { ready.insert(k) }
        var sorted = [String]()
        sorted.reserveCapacity(list.count)
        while let k = ready.popMin() {
            sorted.append(list[k])
            for r in readers[k] {
                indegree[r] -= 1
                if indegree[r] == 0 { ready.insert(r) }
            }
        }
        guard sorted.count == list.count else {
            let stuck = list.indices.first { indegree[$0] > 0 }.map { list[$0] } ?? "?"
            throw FreezeError("the graph has a cycle through node '\(stuck)' (a while loop?): freezing loops is not supported")
        }
        return sorted
    }

    /// The data type of tensor `r`, when its node says (`T`, `dtype`, a call's `Tout`).
    private func outputType(_ r: TensorReference) -> Int32? {
        guard let n = nodes[r.node] else { return nil }
        for key in ["T", "dtype", "DstT"] { if case .type(let t)? = n.attribute(key) { return t } }
        for key in ["Tout", "T"] { if case .list(let l)? = n.attribute(key), r.index < l.types.count { return l.types[r.index] } }
        return nil
    }

    /// `name`, or `name_1`, `name_2`, ... when the graph already holds it.
    private func uniqueName(_ name: String) -> String {
        var candidate = name
        var k = 1
        while nodes[candidate] != nil { candidate = "\(name)_\(k)"; k += 1 }
        return candidate
    }

    /// Adds `node`, in place of the node of that name if there is one (a call replaced by its
    /// IdentityN keeps its place in the file order).
    private mutating func add(_ node: FreezableNode) {
        if nodes[node.name] == nil { order.append(node.name) }
        nodes[node.name] = node
    }
}
