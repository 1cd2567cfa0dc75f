import BNConvInterop

/// Which parts of a graph's `tf.cond` control flow (v1: `Switch` and `Merge`) run, when predicates
/// are constant: a `Switch` whose predicate is a bool `Const` — or the default of a bool
/// `PlaceholderWithDefault`, as TF1 `tf.layers`' and Keras's `training` flags freeze — forwards its
/// data to its live output only (output 1 when the predicate is true, 0 when false); the other
/// output is dead, and so is every node a dead tensor feeds; a `Merge` with exactly one live input
/// forwards that input (tensorflow/core/ops/control_flow_ops.cc for the ops; a node whose data
/// input is dead does not run, a `Merge` runs when any input is live, as TensorFlow's executor
/// propagates dead tensors).
///
/// One analysis for the two places that need it: freezing a checkpoint rewrites the graph through
/// it (``ConstantSwitches``), and reading a `.pb` as it is models the live branch while the file
/// keeps every node (``GraphDefGraph``).
struct ConstantConditions {
    /// A predicate found constant.
    struct Predicate: Equatable {
        /// Its value.
        var value: Bool
        /// The `PlaceholderWithDefault` whose default it is, when one stands on the way (a user of
        /// the graph may feed it the other value).
        var placeholder: String?
    }

    /// A `Switch` whose predicate is constant.
    struct ResolvedSwitch {
        /// The output its data goes to: 1 when the predicate is true, 0 when false.
        var live: Int
        /// Its data input.
        var data: TensorReference
        /// Its predicate input, as written.
        var predicateInput: TensorReference
        /// The predicate's value and where it comes from.
        var predicate: Predicate
    }

    /// The Switches with a constant predicate, by node name.
    private(set) var switches: [String: ResolvedSwitch] = [:]
    /// The Merges with exactly one live input (and at least one dead one), by node name: that input
    /// and its position among the Merge's data inputs.
    private(set) var merges: [String: (input: TensorReference, position: Int)] = [:]
    /// The nodes that do not run (a data input is dead; for a Merge, every data input is).
    private(set) var deadNodes: Set<String> = []
    /// The dead outputs of resolved Switches.
    private(set) var deadOutputs: Set<TensorReference> = []

    /// No control flow resolved (a graph without Switches).
    init() {}

    /// Works out the control flow of the nodes named in `order` (a topological order over data
    /// inputs), `node` giving each by name.
    init<Node: ControlFlowNode>(order: [String], node: (String) -> Node?) {
        var switches = [String: ResolvedSwitch]()
        var merges = [String: (input: TensorReference, position: Int)]()
        var deadNodes = Set<String>()
        var deadOutputs = Set<TensorReference>()
        func isDead(_ r: TensorReference) -> Bool { deadNodes.contains(r.node) || deadOutputs.contains(r) }
        func source(_ r: TensorReference) -> TensorReference { Self.source(of: r, switches: switches, merges: merges) }
        for name in order {
            guard let n = node(name) else { continue }
            let data = n.dataInputs
            switch n.op {
            case "Switch", "RefSwitch":
                if data.count == 2, !isDead(data[0]), let p = Self.constantBool(data[1], through: source, node: node) {
                    let live = p.value ? 1 : 0
                    switches[name] = ResolvedSwitch(live: live, data: data[0], predicateInput: data[1], predicate: p)
                    deadOutputs.insert(TensorReference(node: name, index: 1 - live))
                    continue
                }
            case "Merge", "RefMerge":
                let live = data.indices.filter { !isDead(data[$0]) }
                if live.count == 1, data.count > 1 {
                    merges[name] = (data[live[0]], live[0])
                } else if live.isEmpty, !data.isEmpty {
                    deadNodes.insert(name)
                }
                continue
            default:
                break
            }
            if data.contains(where: isDead) { deadNodes.insert(name) }
        }
        self.switches = switches
        self.merges = merges
        self.deadNodes = deadNodes
        self.deadOutputs = deadOutputs
    }

    /// Whether tensor `r` is dead (never computed).
    func isDead(_ r: TensorReference) -> Bool { deadNodes.contains(r.node) || deadOutputs.contains(r) }

    /// Where tensor `r` comes from once each resolved Switch's live output is its data and each
    /// resolved Merge is its live input (followed through chains of them).
    func source(of r: TensorReference) -> TensorReference { Self.source(of: r, switches: switches, merges: merges) }

    private static func source(of r: TensorReference, switches: [String: ResolvedSwitch],
                               merges: [String: (input: TensorReference, position: Int)]) -> TensorReference {
        var r = r
        for _ in 0..<10_000 {
            if let s = switches[r.node], r.index == s.live {
                r = s.data
            } else if let m = merges[r.node], r.index == 0 {
                r = m.input
            } else {
                break
            }
        }
        return r
    }

    /// The value of `r` when it is a constant bool scalar: a bool `Const`, through `Identity`,
    /// `StopGradient`, `LogicalNot` and `PlaceholderWithDefault` (its default). `through` maps each
    /// tensor met to where it comes from (resolved control flow), `node` gives a node by name.
    static func constantBool<Node: ControlFlowNode>(_ r: TensorReference, through: (TensorReference) -> TensorReference = { $0 },
                                                    node: (String) -> Node?) -> Predicate? {
        var current = through(r)
        var negated = false
        var placeholder: String?
        for _ in 0..<64 {
            guard current.index == 0, let n = node(current.node) else { return nil }
            switch n.op {
            case "Const":
                guard case .tensor(let t)? = n.attribute("value"), t.dtype == TensorFlowDataType.bool else { return nil }
                let value: Bool
                if let b = t.boolValues.first {
                    value = b
                } else if let byte = t.content.first {
                    value = byte != 0
                } else if (t.shape ?? []).isEmpty && t.content.isEmpty {
                    value = false
                } else {
                    return nil
                }
                return Predicate(value: value != negated, placeholder: placeholder)
            case "Identity", "StopGradient", "PlaceholderWithDefault", "LogicalNot":
                guard let input = n.dataInputs.first else { return nil }
                if n.op == "LogicalNot" { negated.toggle() }
                if n.op == "PlaceholderWithDefault" { placeholder = placeholder ?? current.node }
                current = through(input)
            default:
                return nil
            }
        }
        return nil
    }
}
