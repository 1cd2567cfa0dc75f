import BNConvCore

/// One weight as a reader finished it: where the file keeps it and how it was shaped, without
/// its values.
public struct WeightOutline: Equatable, Sendable {
    /// The role it played.
    public var role: WeightRole
    /// Where the file keeps it (``Weight/storageKey``).
    public var storageKey: String
    /// Its shape as read.
    public var shape: [Int]
    /// Its dtype as read.
    public var dtype: DType
    /// Its axis layout as read.
    public var layout: KernelLayout

    /// The outline of `weight`.
    public init(_ weight: Weight) {
        role = weight.role
        storageKey = weight.storageKey
        shape = weight.tensor.shape
        dtype = weight.tensor.dtype
        layout = weight.layout
    }

    /// The number of elements as read.
    public var count: Int { shape.reduce(1, *) }
}

/// One node as a reader finished it: name, op, wiring and weights, no values.
public struct NodeOutline: Equatable, Sendable {
    /// Its position among the nodes as read (the ``Node/readIndex`` of the node it was).
    public var index: Int
    /// Its name as read.
    public var name: String
    /// Its op as read.
    public var op: Op
    /// The values it read.
    public var inputs: [String]
    /// The values it wrote.
    public var outputs: [String]
    /// Its weights, in the node's order.
    public var weights: [WeightOutline]

    /// The outline of `node`, read at position `index`.
    public init(_ node: Node, index: Int) {
        self.index = index
        name = node.name
        op = node.op
        inputs = node.inputs
        outputs = node.outputs
        weights = node.weights.map(WeightOutline.init)
    }

    /// The weight that played `role`, if any.
    public func weight(_ role: WeightRole) -> WeightOutline? { weights.first { $0.role == role } }
}

/// A model as its reader finished it (``ModelFinisher`` records it in ``Model/asRead``): what
/// ``ModelChanges`` compares an edited model with, so that every writer learns what a pass
/// changed the same way.
public struct ModelOutline: Equatable, Sendable {
    /// The model inputs as read.
    public var inputs: [String]
    /// The model outputs as read.
    public var outputs: [String]
    /// Every node as read, in order (`nodes[i].index == i`).
    public var nodes: [NodeOutline]
    /// The activation layout each model input and output was declared with as read (those
    /// declared one), so a writer can tell an interface whose layout a pass changed.
    public var boundaryLayouts: [String: DataLayout]

    /// The outline of `model`, its nodes numbered in order.
    public init(_ model: Model) {
        inputs = model.inputs
        outputs = model.outputs
        nodes = model.nodes.enumerated().map { NodeOutline($0.element, index: $0.offset) }
        var layouts: [String: DataLayout] = [:]
        for value in model.inputs + model.outputs {
            if let layout = model.values[value]?.layout { layouts[value] = layout }
        }
        boundaryLayouts = layouts
    }

    /// The node `node` was read as (by its ``Node/readIndex``), or `nil` for a node a pass created.
    public func node(for node: Node) -> NodeOutline? {
        guard let index = node.readIndex, nodes.indices.contains(index) else { return nil }
        return nodes[index]
    }
}
