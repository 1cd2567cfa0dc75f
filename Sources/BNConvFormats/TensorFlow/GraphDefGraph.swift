import BNConvCore
import BNConvModel
import BNConvInterop

/// An index over a GraphDef's nodes: names, data consumers, tensor names, topological order, and
/// constant resolution through Identity and shape-only ops.
///
/// A value (tensor) is named as TensorFlow names inputs: `node` for output 0, `node:k` otherwise.
struct GraphDefGraph {
    /// The nodes in file order.
    let nodes: [ProtobufNodeDef]
    /// Node index by name.
    let index: [String: Int]
    /// For each value, the `(node, input position)` pairs that read it as a data input.
    let consumers: [String: [(node: Int, slot: Int)]]
    /// Node indices in a topological order (stable: file order where free).
    let order: [Int]
    /// The file, for errors.
    let file: String
    /// The bounds on what decoding a constant may allocate.
    let limits: ReadLimits
    /// The file opened for mapping, when constants' contents were left in it.
    let storage: MappedFile?
    /// The `tf.cond` control flow whose predicates are constant (``ConstantConditions``: which
    /// Switch outputs and Merges are live, which nodes are dead); empty for a graph without Switches.
    let conditions: ConstantConditions
    /// The nodes some node names as a control input (`^node`).
    let controlRead: Set<String>

    /// Ops that pass a tensor on unchanged (or re-typed, for Cast): a weight read through them is
    /// still the Const (mixed precision reads float32 variables through a Cast to half).
    static let passthroughOps: Set<String> = ["Identity", "Snapshot", "StopGradient", "Cast"]
    /// Shape-only ops allowed on a weight's path (their second operand, if any, must be constant).
    static let shapeOps: Set<String> = ["ExpandDims", "Reshape", "Squeeze"]

    /// Indexes `nodes`; throws for duplicate names, inputs naming missing nodes, and cycles.
    /// Constants are decoded within `limits`; those whose content was left in the file are read
    /// from `storage` (``weightTensor(ofConstant:)`` lends them).
    init(nodes: [ProtobufNodeDef], file: String, limits: ReadLimits, storage: MappedFile? = nil) throws {
        self.nodes = nodes
        self.file = file
        self.limits = limits
        self.storage = storage
        var index = [String: Int](minimumCapacity: nodes.count)
        for (i, n) in nodes.enumerated() {
            guard !n.name.isEmpty else {
                throw CheckpointError(.malformed, file: file, place: "node #\(i)", problem: "node has no name (not a GraphDef?)")
            }
            guard !n.op.isEmpty else {
                throw CheckpointError(.malformed, file: file, place: n.name, problem: "node has no op (not a GraphDef?)")
            }
            guard index.updateValue(i, forKey: n.name) == nil else {
                throw CheckpointError(.malformed, file: file, place: n.name, problem: "two nodes have this name")
            }
        }
        self.index = index
        var consumers = [String: [(node: Int, slot: Int)]](minimumCapacity: nodes.count)
        var predecessors = [[Int]](repeating: [], count: nodes.count)
        var controlRead = Set<String>()
        for (i, n) in nodes.enumerated() {
            for (slot, input) in n.inputs.enumerated() {
                let ref = GraphDefGraph.parse(input)
                guard let p = index[ref.node] else {
                    throw CheckpointError(.malformed, file: file, place: n.name, problem: "input '\(input)' names no node of the graph")
                }
                predecessors[i].append(p)
                if ref.isControl { controlRead.insert(ref.node) } else { consumers[ref.value, default: []].append((i, slot)) }
            }
        }
        self.consumers = consumers
        self.controlRead = controlRead
        // Kahn's algorithm, smallest file index first.
        var pending = predecessors.map { Set($0).count }
        var successors = [[Int]](repeating: [], count: nodes.count)
        for (i, ps) in predecessors.enumerated() { for p in Set(ps) { successors[p].append(i) } }
        var ready = IndexHeap(capacity: nodes.count)
        for i in 0..<nodes.count where pending[i] == 0 { ready.insert(i) }
        var order = [Int]()
        order.reserveCapacity(nodes.count)
        while let i = ready.popMin() {
            order.append(i)
            for s in successors[i] {
                pending[s] -= 1
                if pending[s] == 0 { ready.insert(s) }
            }
        }
        guard order.count == nodes.count else {
            let stuck = (0..<nodes.count).first { pending[$0] > 0 }.map { nodes[$0].name } ?? "?"
            throw CheckpointError(.unsupported, file: file, place: stuck,
                                  problem: "the graph has a cycle (control flow loops are not supported)")
        }
        self.order = order
        var secondary = [String: [(output: Int, value: String)]]()
        for value in consumers.keys {
            let r = GraphDefGraph.parse(value)
            if r.output > 0 { secondary[r.node, default: []].append((r.output, value)) }
        }
        secondaryOutputsRead = secondary.mapValues { $0.sorted { $0.output < $1.output }.map(\.value) }
        let conditions = nodes.contains(where: { $0.op == "Switch" || $0.op == "RefSwitch" })
            ? ConstantConditions(order: order.map { nodes[$0].name }) { name in index[name].map { nodes[$0] } }
            : ConstantConditions()
        self.conditions = conditions
        constantValues = GraphDefGraph.constantValues(nodes: nodes, order: order, index: index, conditions: conditions)
    }

    /// Per node name, the values of its outputs other than output 0 that some input reads, in
    /// output order (one index, so asking for every node is linear).
    private let secondaryOutputsRead: [String: [String]]

    /// The read values of node `name`'s outputs other than output 0 (`name:1`, ...), in order.
    func secondaryOutputs(ofNode name: String) -> [String] { secondaryOutputsRead[name] ?? [] }
    /// The values (output 0 of a node, by node index) that ``constant(behind:allowShapeOps:)``
    /// resolves with shape ops allowed: computed once, in topological order, so asking for every
    /// node of a long chain costs linear time, not quadratic.
    private let constantValues: [Bool]

    private static func constantValues(nodes: [ProtobufNodeDef], order: [Int], index: [String: Int],
                                       conditions: ConstantConditions) -> [Bool] {
        var constant = [Bool](repeating: false, count: nodes.count)
        for i in order {
            let n = nodes[i]
            if n.op == "Const" { constant[i] = true; continue }
            let inputs = n.inputs.filter { !$0.hasPrefix("^") }.map(GraphDefGraph.parse)
            func isConstant(_ r: Reference) -> Bool { index[r.node].map { constant[$0] } == true }
            if passthroughOps.contains(n.op), inputs.count == 1 {
                constant[i] = isConstant(inputs[0])
            } else if shapeOps.contains(n.op), !inputs.isEmpty {
                constant[i] = inputs.allSatisfy(isConstant)
            } else if (n.op == "Switch" || n.op == "RefSwitch"), inputs.count == 2 {
                // A Switch's output, when it has one, is its data: a constant weight read in a
                // tf.cond branch is still the Const (whatever the predicate).
                constant[i] = isConstant(inputs[0])
            } else if let live = conditions.merges[n.name] {
                // A Merge with one live input is that input.
                constant[i] = isConstant(GraphDefGraph.parse(live.input.text))
            }
        }
        return constant
    }

    /// A parsed input reference.
    struct Reference {
        /// The producing node's name.
        var node: String
        /// The output index.
        var output: Int
        /// Whether it is a control input (`^node`).
        var isControl: Bool
        /// The canonical value name (`node` or `node:k`).
        var value: String { GraphDefGraph.valueName(node, output) }
    }

    /// Parses `"node"`, `"node:k"` or `"^node"`.
    static func parse(_ input: String) -> Reference {
        if input.hasPrefix("^") { return Reference(node: String(input.dropFirst()), output: 0, isControl: true) }
        // The last ':' found among the UTF-8 bytes, several times faster than a search by
        // characters and the same: a ':' byte is never inside another character's encoding, and
        // one that is not a character of its own (a mark after it, a prepended character before
        // it) is not taken, as the character search would not find it either.
        if let colon = input.utf8.lastIndex(of: UInt8(ascii: ":")), colon.samePosition(in: input) != nil,
           let k = Int(input[input.utf8.index(after: colon)...]) {
            return Reference(node: String(input[..<colon]), output: k, isControl: false)
        }
        return Reference(node: input, output: 0, isControl: false)
    }

    /// The canonical name of output `output` of `node`.
    static func valueName(_ node: String, _ output: Int) -> String { output == 0 ? node : "\(node):\(output)" }

    /// The data inputs of node `i` as canonical value names, with their input positions.
    func dataInputs(_ i: Int) -> [(value: String, slot: Int)] {
        nodes[i].inputs.enumerated().compactMap { slot, input in
            let r = GraphDefGraph.parse(input)
            return r.isControl ? nil : (r.value, slot)
        }
    }

    /// The node that produces `value`.
    func producer(of value: String) -> Int? { index[GraphDefGraph.parse(value).node] }

    /// The nodes reading `value`.
    func readers(of value: String) -> [Int] { (consumers[value] ?? []).map(\.node) }

    /// The single node reading `value`, if exactly one input anywhere reads it.
    func soleReader(of value: String) -> Int? {
        let c = consumers[value] ?? []
        return c.count == 1 ? c[0].node : nil
    }

    /// Whether any output of node `i` other than output 0 is read.
    func readsSecondaryOutputs(_ i: Int) -> Bool {
        secondaryOutputsRead[nodes[i].name] != nil
    }

    /// A constant reached from `value` through pass-through and shape-only ops.
    struct ConstantPath {
        /// The Const node's index.
        var constant: Int
        /// Every node on the way (pass-through, shape-only ops, their constant operands, the Const).
        var nodes: [Int]
        /// Whether any node on the way is read by more than one input.
        var isShared: Bool
    }

    /// Resolves `value` to a Const, or nil if something non-constant stands in between.
    ///
    /// The main path (pass-through ops, each shape op's first operand) is walked in a loop, not
    /// by recursion, so a chain of 100,000 Identity ops costs no stack; a shape op's other
    /// operands (a Reshape's shape) recurse, at most ``constantOperandDepth`` deep.
    func constant(behind value: String, allowShapeOps: Bool = true) -> ConstantPath? {
        constant(behind: value, allowShapeOps: allowShapeOps, depth: 0)
    }

    /// How deep a shape op's constant operands may nest (each the output of another shape op).
    static let constantOperandDepth = 64

    private func constant(behind value: String, allowShapeOps: Bool, depth: Int) -> ConstantPath? {
        var nodesOnPath: [Int] = []
        var extras: [[Int]] = []   // per shape op on the path, its other operands' nodes
        var shared = false
        var current = value
        while true {
            guard let p = producer(of: current), constantValues[p] else { return nil }
            let n = nodes[p]
            shared = shared || (consumers[current]?.count ?? 0) > 1
            nodesOnPath.append(p)
            if n.op == "Const" {
                // The order the recursive walk gave: the path, then the innermost op's operands first.
                return ConstantPath(constant: p, nodes: nodesOnPath + extras.reversed().joined(), isShared: shared)
            }
            let inputs = dataInputs(p)
            if GraphDefGraph.passthroughOps.contains(n.op), inputs.count == 1 {
                current = inputs[0].value
                continue
            }
            if n.op == "Switch" || n.op == "RefSwitch", inputs.count == 2 {
                current = inputs[0].value
                continue
            }
            if let live = conditions.merges[n.name], GraphDefGraph.parse(current).output == 0 {
                current = live.input.text
                continue
            }
            guard allowShapeOps, GraphDefGraph.shapeOps.contains(n.op), !inputs.isEmpty, depth < GraphDefGraph.constantOperandDepth else {
                return nil
            }
            var operands: [Int] = []
            for extra in inputs.dropFirst() {
                guard let c = constant(behind: extra.value, allowShapeOps: true, depth: depth + 1) else { return nil }
                operands.append(contentsOf: c.nodes)
            }
            extras.append(operands)
            current = inputs[0].value
        }
    }

    /// Whether `value` is computed from constants only (through pass-through and shape-only ops).
    func isConstant(_ value: String) -> Bool { constant(behind: value) != nil }

    /// The attribute `key` of node `i`.
    func attribute(_ i: Int, _ key: String) -> ProtobufAttrValue? { nodes[i].attribute(key) }

    /// The tensor held by the Const at `i`.
    func tensor(ofConstant i: Int) throws -> Tensor {
        try tensor(ofConstant: i, deferring: false)
    }

    /// The tensor of the Const at `i` as a weight: one whose content was left in the file stays
    /// there, a deferred tensor lent from it (a fold without verification never copies it).
    func weightTensor(ofConstant i: Int) throws -> Tensor {
        try tensor(ofConstant: i, deferring: true)
    }

    private func tensor(ofConstant i: Int, deferring: Bool) throws -> Tensor {
        guard case .tensor(let proto)? = nodes[i].attribute("value") else {
            throw CheckpointError(.malformed, file: file, place: nodes[i].name, problem: "Const has no tensor 'value' attribute")
        }
        return try GraphDefTensorCodec.decode(proto, file: file, place: nodes[i].name, limits: limits, storage: storage, deferring: deferring)
    }

    /// The bytes all Const nodes declare (shape x dtype), nil past `Int.max`. TensorFlow repeats
    /// a short value list to fill the shape, so a 120-byte Const may declare 4 GiB: readers
    /// compare this total with the file's size before decoding any constant.
    func declaredConstantBytes() -> Int? {
        var declared = DeclaredBytes()
        for n in nodes where n.op == "Const" {
            guard case .tensor(let proto)? = n.attribute("value"), let dims = proto.shape else { continue }
            let elementBytes = TensorFlowDataType.dtype(proto.dtype)?.byteCount ?? 1
            declared.add(shape: dims.map { Int(clamping: $0) }, elementBytes: elementBytes)
        }
        return declared.total
    }

    /// The stored dimensions of the Const at `i`.
    func storedDims(ofConstant i: Int) -> [Int]? {
        guard case .tensor(let proto)? = nodes[i].attribute("value") else { return nil }
        return proto.shape.map { $0.map(Int.init) }
    }
}

extension GraphDefGraph {
    /// Whether node `i` is a constant-predicate Switch whose taken output nothing reads: it
    /// becomes no node of its own (its untaken output, when a node reads it, becomes one then:
    /// ``GraphDefPatterns/switchOutput(_:)``).
    func isSwitchWithTakenOutputUnread(_ i: Int) -> Bool {
        guard let s = conditions.switches[nodes[i].name] else { return false }
        return consumers[GraphDefGraph.valueName(nodes[i].name, s.live)] == nil
    }

    /// Whether the NodeDef named `name` is a sink no result is wanted of: it does not run (an
    /// untaken `tf.cond` branch), or it reads a constant-predicate Switch and is read only as a
    /// control input (a `tf.cond`'s `switch_t` / `switch_f` anchors).
    func isControlFlowSink(_ name: String) -> Bool {
        if conditions.deadNodes.contains(name) { return true }
        guard controlRead.contains(name), let i = index[name] else { return false }
        return dataInputs(i).contains { conditions.switches[GraphDefGraph.parse($0.value).node] != nil }
    }
}
