import BNConvCore

/// A format-neutral network: nodes in topological order over named values.
///
/// Readers in `Formats/` build it, passes (`Passes/`) and the engine (`Engine/`) work on it, and
/// writers re-emit it from each node's ``Node/source`` record plus the edits a pass made.
public struct Model: Sendable {
    /// The model's name.
    public var name: String
    /// The format and flavour it was read from.
    public var format: CheckpointFormat
    /// The model's input values, in order.
    public var inputs: [String]
    /// The model's output values, in order.
    public var outputs: [String]
    /// Nodes in topological order (every input of a node is produced earlier or is a model input).
    public var nodes: [Node]
    /// Facts about each value, by name.
    public var values: [String: ValueInfo]
    /// The whole-file record a writer needs (root attributes, config, graph-level fields).
    public var source: (any SourceRecord)?
    /// The model as its reader finished it (``ModelFinisher``), which ``ModelChanges`` compares
    /// the edited model with; `nil` for a model no reader built.
    public var asRead: ModelOutline?

    /// Creates a model.
    public init(name: String, format: CheckpointFormat, inputs: [String], outputs: [String], nodes: [Node],
                values: [String: ValueInfo], source: (any SourceRecord)? = nil, asRead: ModelOutline? = nil) {
        self.name = name
        self.format = format
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = nodes
        self.values = values
        self.source = source
        self.asRead = asRead
    }

    /// The index of the node named `name`.
    public func nodeIndex(named name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// The node named `name`.
    public func node(named name: String) -> Node? { nodeIndex(named: name).map { nodes[$0] } }

    /// The index of the node that writes `value`, or `nil` for a model input with no node.
    public func producerIndex(of value: String) -> Int? {
        nodes.firstIndex { $0.outputs.contains(value) }
    }

    /// Indices of the nodes that read `value` (once per node, in topological order).
    public func consumerIndices(of value: String) -> [Int] {
        nodes.indices.filter { nodes[$0].inputs.contains(value) }
    }

    /// Every BatchNorm node's index, in topological order.
    public var batchNormIndices: [Int] {
        nodes.indices.filter { if case .batchNorm = nodes[$0].op { return true } else { return false } }
    }

    /// Checks the graph's structure: unique node and value names, every input defined before use,
    /// outputs produced, and weight shapes consistent with their roles.
    public func validate() throws {
        var defined = Set(inputs)
        var names = Set<String>()
        defined.reserveCapacity(inputs.count + nodes.count)
        names.reserveCapacity(nodes.count)
        for node in nodes {
            guard names.insert(node.name).inserted else {
                throw ModelError.duplicateNode(node.name)
            }
            for input in node.inputs where !defined.contains(input) {
                if let writer = nodes.first(where: { $0.outputs.contains(input) }) {
                    throw ModelError.readBeforeWritten(input, node: node.name, writer: writer.name)
                }
                throw ModelError.undefinedValue(input, node: node.name)
            }
            for output in node.outputs {
                guard defined.insert(output).inserted || node.op == .input else {
                    throw ModelError.valueWrittenTwice(output, node: node.name)
                }
            }
        }
        for output in outputs where !defined.contains(output) {
            throw ModelError.undefinedValue(output, node: ModelError.modelOutputs)
        }
        for node in nodes {
            if let problem = node.op.windowProblem { throw ModelError.invalidWindow(node: node.name, problem: problem) }
        }
    }

    /// A canonical, deterministic text dump: one line per node with op, inputs, outputs and
    /// weight shapes. For tests and `--debug`.
    public func dump() -> String {
        var lines = ["model \(name) [\(format.rawValue)] inputs=\(inputs) outputs=\(outputs)"]
        for node in nodes {
            let weights = node.weights.map { "\($0.role)\($0.tensor.shape):\($0.tensor.dtype.rawValue)" }
            lines.append("  \(node.name): \(node.opName) \(node.inputs) -> \(node.outputs)"
                         + (weights.isEmpty ? "" : " {\(weights.joined(separator: ", "))}"))
        }
        return lines.joined(separator: "\n")
    }
}

/// A structural problem in a ``Model``.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// Two nodes share a name.
    case duplicateNode(String)
    /// A node reads a value no earlier node writes.
    case undefinedValue(String, node: String)
    /// A node reads a value that a later node writes (a cycle, or nodes out of order).
    case readBeforeWritten(String, node: String, writer: String)
    /// Two nodes write the same value.
    case valueWrittenTwice(String, node: String)
    /// A window op (conv, pool) declares a kernel size, stride or dilation below 1.
    case invalidWindow(node: String, problem: String)

    /// The node the problem is at (`nil` when it is the model's outputs).
    public var node: String? {
        switch self {
        case .duplicateNode(let n): return n
        case let .undefinedValue(_, node), let .valueWrittenTwice(_, node), let .invalidWindow(node, _), let .readBeforeWritten(_, node, _):
            return node == ModelError.modelOutputs ? nil : node
        }
    }

    /// The node name ``undefinedValue(_:node:)`` gives when a model output is never written.
    public static let modelOutputs = "<model outputs>"

    /// A one-line description.
    public var description: String {
        switch self {
        case .duplicateNode(let n): return "two nodes are named '\(n)'"
        case let .undefinedValue(v, node): return "node '\(node)' reads '\(v)', which no earlier node writes"
        case let .readBeforeWritten(v, node, writer):
            return "node '\(node)' reads '\(v)', which only the later node '\(writer)' writes: the graph has a cycle or is not in topological order"
        case let .valueWrittenTwice(v, node): return "node '\(node)' writes '\(v)', which an earlier node already writes"
        case let .invalidWindow(node, problem): return "node '\(node)' \(problem)"
        }
    }
}
