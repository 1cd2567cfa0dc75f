import BNConvCore

/// One operation of a ``Model``: its op, the values it reads and writes, and its weights.
public struct Node: Sendable {
    /// The node's unique name (the Keras layer name, NodeDef name, NodeProto name).
    public var name: String
    /// What it computes.
    public var op: Op
    /// Names of the values it reads, in argument order.
    public var inputs: [String]
    /// Names of the values it writes.
    public var outputs: [String]
    /// Its weights, in the file's order.
    public var weights: [Weight]
    /// The original record (Keras layer config, NodeDef, NodeProto) that writers re-emit with the
    /// edits a pass made; `nil` for nodes a pass created.
    public var source: (any SourceRecord)?
    /// The node's position among the nodes as read (an index into the model's
    /// ``Model/asRead`` outline), set by ``ModelFinisher`` and kept through every edit and rename;
    /// `nil` for a node a pass created. ``ModelChanges`` matches nodes by it.
    public var readIndex: Int?

    /// Creates a node.
    public init(name: String, op: Op, inputs: [String], outputs: [String], weights: [Weight] = [],
                source: (any SourceRecord)? = nil) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.weights = weights
        self.source = source
    }

    /// The weight playing `role`, if any.
    public func weight(_ role: WeightRole) -> Weight? { weights.first { $0.role == role } }

    /// Replaces (or appends) the weight playing `weight.role`.
    public mutating func setWeight(_ weight: Weight) {
        if let i = weights.firstIndex(where: { $0.role == weight.role }) {
            weights[i] = weight
        } else {
            weights.append(weight)
        }
    }

    /// A short human name for the op ("Conv2D", "BatchNormalization", ...), for reports.
    public var opName: String {
        switch op {
        case .input: return "Input"
        case .conv(let c): return "Conv\(c.rank)D"
        case .depthwiseConv(let c): return "DepthwiseConv\(c.rank)D"
        case .separableConv(let c): return "SeparableConv\(c.rank)D"
        case .convTranspose(let c): return "Conv\(c.rank)DTranspose"
        case .dense: return "Dense"
        case .batchNorm: return "BatchNormalization"
        case .activation: return "Activation"
        case .pool(let p): return p.kind == .max ? "MaxPooling" : "AveragePooling"
        case .globalPool(let p): return p.kind == .max ? "GlobalMaxPooling" : "GlobalAveragePooling"
        case .elementwise(let k): return k.rawValue.prefix(1).uppercased() + k.rawValue.dropFirst()
        case .concat: return "Concatenate"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .permute: return "Permute"
        case .pad: return "ZeroPadding"
        case .crop: return "Cropping"
        case .upsample: return "UpSampling"
        case .rescaling: return "Rescaling"
        case .normalization: return "Normalization"
        case .identity: return "Identity"
        case .softmax: return "Softmax"
        case .tensor(let t): return t.type
        case .opaque(let type): return type
        }
    }
}

/// A format's original record of a node or a whole model, kept so writers can re-emit it.
///
/// Formats define their own conforming types (a Keras layer config, a NodeDef); passes and the
/// engine never look inside.
public protocol SourceRecord: Sendable {}

extension Node {
    /// ``inputs`` with repeats left out, in first-read order. Nodes read one to a few values, so a
    /// scan beats building a `Set` per node (which hashing a million-node graph's nodes spent
    /// most of its time on).
    public var distinctInputs: [String] {
        guard inputs.count > 1 else { return inputs }
        if inputs.count > 16 {
            // A crafted node can read 100,000 values: a scan per input would be quadratic.
            var seen = Set<String>(minimumCapacity: inputs.count)
            return inputs.filter { seen.insert($0).inserted }
        }
        var out: [String] = []
        out.reserveCapacity(inputs.count)
        for v in inputs where !out.contains(v) { out.append(v) }
        return out
    }

    /// Per input position, how many times the node reads that value (1 for a value read once).
    /// Counted in one pass over a wide node, by a scan over a narrow one.
    public var inputReadCounts: [Int] {
        if inputs.count > 16 {
            let counts = Dictionary(inputs.map { ($0, 1) }, uniquingKeysWith: +)
            return inputs.map { counts[$0]! }
        }
        return inputs.map { name in inputs.filter { $0 == name }.count }
    }
}
