/// The nodes a ``ModelRunner`` evaluated once, when it planned a run's input shapes, instead of at
/// every run: op-library nodes whose result depends on no input value (shape arithmetic such as
/// `Shape -> Gather -> Unsqueeze -> Concat`, `Size` and `Rank` of values whose shapes the input
/// shapes determine, and ops on constants only). Their results are constants of the plan; later
/// kernels read them as they would have read the computed values.
public struct ConstantFolding: Equatable, Sendable {
    /// How many nodes of one op type were evaluated once.
    public struct OpCount: Equatable, Sendable {
        /// The op type (`Shape`, `Gather`, ...).
        public var op: String
        /// Nodes of that type.
        public var nodes: Int
    }

    /// The nodes evaluated once, in node order.
    public var nodeNames: [String]
    /// Per op type, most nodes first (then by name).
    public var byOp: [OpCount]
    /// Op-library reshapes (`Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Identity`) whose input
    /// and output shapes planning knows: they run as views of their float32 input, not as copies.
    public var reshapeViews = 0

    /// How many nodes were evaluated once.
    public var nodes: Int { nodeNames.count }

    /// Nothing evaluated once, no reshape run as a view.
    public static let none = ConstantFolding(nodeNames: [], byOp: [])

    /// The nodes `nodeNames`, counted per op type in `byOp`.
    init(nodeNames: [String], byOp: [OpCount]) {
        self.nodeNames = nodeNames
        self.byOp = byOp
    }

    /// A summary of `nodes`, each with its op type, in node order.
    init(_ nodes: [(name: String, op: String)]) {
        var counts: [String: Int] = [:]
        for node in nodes { counts[node.op, default: 0] += 1 }
        self.init(nodeNames: nodes.map(\.name),
                  byOp: counts.map { OpCount(op: $0.key, nodes: $0.value) }
                      .sorted { $0.nodes != $1.nodes ? $0.nodes > $1.nodes : $0.op < $1.op })
    }
}
