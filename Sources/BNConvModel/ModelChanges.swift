import BNConvCore

/// What passes changed in a model since its reader finished it: the one "what changed" every
/// writer works from (each maps it onto its own records), computed by comparing the model with
/// its ``Model/asRead`` outline.
///
/// Nodes are matched by ``Node/readIndex``, so a renamed node is the same node and a node a pass
/// created has no counterpart. Weight values count as changed when the pass says so
/// (``Weight/isModified``; comparing values would load every deferred weight); a weight whose role
/// the node did not have when read is added, one whose role it lost is removed. Anything not
/// listed is untouched and is written back as it was.
public struct ModelChanges: Sendable {
    /// A value a node reads now in place of the one it read in the file.
    public struct Rewiring: Equatable, Sendable {
        /// The input position.
        public var slot: Int
        /// The value read there in the file.
        public var asRead: String
        /// The value read there now.
        public var now: String
    }

    /// A weight that differs from the file.
    public struct WeightChange: Equatable, Sendable {
        /// How it differs.
        public enum Kind: Equatable, Sendable {
            /// The node had the role when read and a pass changed the values.
            case modified
            /// The node did not have the role when read (a bias a fold added).
            case added
            /// The node had the role when read and has no such weight now.
            case removed
        }
        /// The role.
        public var role: WeightRole
        /// How it differs.
        public var kind: Kind
        /// The weight as read (`nil` for an added one).
        public var asRead: WeightOutline?
    }

    /// One node of the edited model next to the node it was read as.
    public struct NodeChange: Sendable {
        /// Its index in the edited model.
        public var index: Int
        /// The node as read, or `nil` for a node a pass created.
        public var asRead: NodeOutline?
        /// Whether its name differs from the one it was read with.
        public var isRenamed: Bool
        /// Whether its op (attributes included) differs from the one read.
        public var opChanged: Bool
        /// Whether it reads a different number of values than it did.
        public var inputCountChanged: Bool
        /// The inputs it reads in place of the ones it read, slot by slot (when the count is the same).
        public var rewiredInputs: [Rewiring]
        /// Its weights that differ from the file, in the node's weight order, removed ones last.
        public var weights: [WeightChange]

        /// Whether a pass created the node.
        public var isCreated: Bool { asRead == nil }

        /// Whether anything about the node differs from the file.
        public var isChanged: Bool {
            isCreated || isRenamed || opChanged || inputCountChanged || !rewiredInputs.isEmpty || !weights.isEmpty
        }

        /// The change to the weight playing `role`, if it changed.
        public func weight(_ role: WeightRole) -> WeightChange? { weights.first { $0.role == role } }
    }

    /// A model output that is another value than the one read in its place.
    public struct OutputChange: Equatable, Sendable {
        /// The output's position.
        public var index: Int
        /// The value at that position in the file.
        public var asRead: String
        /// The value there now.
        public var now: String
    }

    /// The model as read.
    public let asRead: ModelOutline
    /// One entry per node of the edited model, in its order (`nodes[i].index == i`).
    public let nodes: [NodeChange]
    /// The nodes as read that the edited model no longer has, in read order.
    public let removed: [NodeOutline]
    /// Model outputs that are other values than the ones read in their places (up to the shorter list).
    public let outputs: [OutputChange]
    /// Whether the model has more or fewer outputs than were read.
    public let outputCountChanged: Bool

    /// The changes of `model` since its reader finished it, or `nil` when no reader recorded how
    /// it was read (``Model/asRead``).
    public init?(_ model: Model) {
        guard let asRead = model.asRead else { return nil }
        self.init(from: asRead, to: model)
    }

    /// The changes from `asRead` to `model`.
    public init(from asRead: ModelOutline, to model: Model) {
        self.asRead = asRead
        var kept = Set<Int>()
        nodes = model.nodes.enumerated().map { index, node in
            guard let read = asRead.node(for: node) else {
                return NodeChange(index: index, asRead: nil, isRenamed: false, opChanged: false, inputCountChanged: false,
                                  rewiredInputs: [], weights: [])
            }
            kept.insert(read.index)
            return ModelChanges.compare(node, index: index, with: read)
        }
        removed = asRead.nodes.filter { !kept.contains($0.index) }
        outputs = zip(asRead.outputs, model.outputs).enumerated().compactMap { index, pair in
            pair.0 == pair.1 ? nil : OutputChange(index: index, asRead: pair.0, now: pair.1)
        }
        outputCountChanged = model.outputs.count != asRead.outputs.count
    }

    /// How `node` (at `index`) differs from `read`.
    private static func compare(_ node: Node, index: Int, with read: NodeOutline) -> NodeChange {
        let sameCount = node.inputs.count == read.inputs.count
        let rewired = sameCount ? zip(read.inputs, node.inputs).enumerated().compactMap { slot, pair in
            pair.0 == pair.1 ? nil : Rewiring(slot: slot, asRead: pair.0, now: pair.1)
        } : []
        var weights: [WeightChange] = []
        for weight in node.weights {
            if let was = read.weight(weight.role) {
                if weight.isModified { weights.append(WeightChange(role: weight.role, kind: .modified, asRead: was)) }
            } else {
                weights.append(WeightChange(role: weight.role, kind: .added, asRead: nil))
            }
        }
        for was in read.weights where node.weight(was.role) == nil {
            weights.append(WeightChange(role: was.role, kind: .removed, asRead: was))
        }
        return NodeChange(index: index, asRead: read, isRenamed: node.name != read.name, opChanged: node.op != read.op,
                          inputCountChanged: !sameCount, rewiredInputs: rewired, weights: weights)
    }

    /// Indices (in the edited model) of the nodes a pass created.
    public var created: [Int] { nodes.filter(\.isCreated).map(\.index) }

    /// Whether the edited model differs from the file in anything a writer writes.
    public var isEmpty: Bool {
        removed.isEmpty && outputs.isEmpty && !outputCountChanged && !nodes.contains(where: \.isChanged)
    }
}
