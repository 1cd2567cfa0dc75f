import Foundation

/// Writes a ``Model`` read by ``GraphDefReader`` back as a TensorFlow frozen GraphDef.
///
/// The file is re-emitted from the graph as read (``GraphDefSource``) plus the edits a pass made:
/// - a removed node deletes its NodeDefs, then the Consts / Identity chains / shape-only nodes
///   behind its weights that nothing else reads any more, and control inputs naming them;
/// - a rewired node input rewrites the NodeDef input it was read from;
/// - a modified weight rewrites its Const's tensor (in the Const's own dtype, as `tensor_content`);
/// - a conv/dense node that gained a bias (`useBias` with a `bias` weight that has no storage key)
///   gets a new `BiasAdd` + `Const` after its output NodeDef, under names that collide with no
///   existing node, and its readers are moved onto the BiasAdd.
/// Untouched NodeDefs (and fields bnconv does not model) are written back byte for byte. A node
/// a pass created from scratch cannot be expressed and is refused with a clear error.
public enum GraphDefWriter {
    /// Writes `model` to `path` through ``AtomicFile`` (a synced temporary file beside it,
    /// renamed over `path` on success; nothing is written on error).
    public static func write(_ model: Model, to path: String) throws {
        let bytes = try serialize(model, file: path)
        try AtomicFile.write(bytes, to: path)
    }

    /// The GraphDef bytes for `model`; `file` names the target in errors.
    public static func serialize(_ model: Model, file: String) throws -> [UInt8] {
        guard let source = model.source as? GraphDefSource else {
            throw CheckpointError(.unsupported, file: file, problem:
                "the model was not read from a TensorFlow GraphDef; bnconv writes GraphDefs only by editing one it read")
        }
        let message = try ProtobufGraphDef(bytes: source.bytes, file: source.file)
        let original = message.nodeDefs()
        var inputsOf = [String: [String]]()
        var constDType = [String: DType]()
        for n in original {
            inputsOf[n.name] = n.inputs
            if n.op == "Const", case .tensor(let t)? = n.attribute("value") { constDType[n.name] = TensorFlowDataType.dtype(t.dtype) }
        }
        var changed = Set<String>()

        // Removed nodes (matched by the NodeDefs they stand for, so a renamed node is not one)
        // and what only they used.
        let present = Set(model.nodes.compactMap { ($0.source as? GraphDefNodeRecord)?.outputNodeDef })
        let removed = source.readNodes.values.filter { !present.contains($0.outputNodeDef) }
        var deleted = Set(removed.flatMap(\.nodeDefNames))
        let candidates = Set(removed.flatMap(\.auxiliaryNames))

        var taken = source.nodeDefNames
        func unique(_ base: String) -> String {
            var name = base, k = 1
            while taken.contains(name) { name = "\(base)_\(k)"; k += 1 }
            taken.insert(name)
            return name
        }
        // A layout conversion: attributes, axis constants, inserted transposes.
        let layout = try GraphDefLayoutEdits(model: model, original: Dictionary(original.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                             file: file, unique: unique)
        for (nodeDef, index, input) in layout.inputs {
            inputsOf[nodeDef]?[index] = input
            changed.insert(nodeDef)
        }

        // Rewired inputs.
        for node in model.nodes {
            guard let record = node.source as? GraphDefNodeRecord else {
                if case .permute = node.op { continue }
                throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                    "this \(node.opName) node was created by a pass; bnconv cannot express new layers in a GraphDef (only inserted transposes)")
            }
            guard withoutLayout(withoutBias(node.op)) == withoutLayout(withoutBias(record.readOp)) else {
                throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                    "its attributes changed (\(record.readOp) -> \(node.op)); GraphDef writing supports weight, bias and wiring edits only")
            }
            guard node.inputs.count == record.inputSlots.count else {
                throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                    "the node now has \(node.inputs.count) inputs instead of \(record.inputSlots.count); GraphDef writing cannot add or drop inputs")
            }
            for (k, value) in node.inputs.enumerated() where value != record.readInputs[k] {
                for slot in [record.inputSlots[k]] + record.mirrorSlots[k] {
                    inputsOf[slot.nodeDef]?[slot.index] = layout.tensorNames[value] ?? value
                    changed.insert(slot.nodeDef)
                }
            }
        }

        // Auxiliary nodes of removed nodes that no remaining node reads (to a fixed point).
        var sweep = true
        while sweep {
            sweep = false
            let read = Set(inputsOf.filter { !deleted.contains($0.key) }.values.flatMap { ins in
                ins.map(GraphDefGraph.parse).filter { !$0.isControl }.map(\.node)
            })
            for c in candidates where !deleted.contains(c) && !read.contains(c) {
                deleted.insert(c)
                sweep = true
            }
        }

        // Modified weights.
        var rewritten = Set<String>()
        for node in model.nodes {
            guard let record = node.source as? GraphDefNodeRecord else { continue }
            for w in node.weights where w.isModified && !w.storageKey.isEmpty {
                guard !deleted.contains(w.storageKey), let dtype = constDType[w.storageKey] else {
                    throw CheckpointError(.writeFailed, file: file, place: node.name,
                                          problem: "weight \(w.role) is stored in '\(w.storageKey)', which is not a Const of the graph")
                }
                guard let read = record.readWeights[w.storageKey], read.layout == w.layout else {
                    throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                        "weight \(w.role) is now laid out \(w.layout.rawValue); TensorFlow reads '\(w.storageKey)' in the layout it had")
                }
                // Same shape as read: keep the Const's stored dims (a bias may be stored as [1,1,1,C]),
                // unless the layout change stores it with another broadcast shape.
                let dims = layout.reshapedConstants[w.storageKey]
                    ?? (read.shape == w.tensor.shape ? (record.storedDims[w.storageKey] ?? read.shape) : w.tensor.shape)
                message.setTensor(ofNode: w.storageKey, attribute: "value",
                                  to: GraphDefTensorCodec.encode(w.tensor.converted(to: dtype), dims: dims))
                rewritten.insert(w.storageKey)
            }
        }
        // Consts the layout change stores with another shape (same values).
        for (name, dims) in layout.reshapedConstants.sorted(by: { $0.key < $1.key }) where !rewritten.contains(name) && !deleted.contains(name) {
            guard let def = original.first(where: { $0.name == name }), case .tensor(let proto)? = def.attribute("value") else {
                throw CheckpointError(.writeFailed, file: file, place: name, problem: "not a Const with a tensor value")
            }
            let tensor = try GraphDefTensorCodec.decode(proto, file: file, place: name)
            message.setTensor(ofNode: name, attribute: "value", to: GraphDefTensorCodec.encode(tensor, dims: dims))
        }

        // New biases.
        var added = layout.added
        for node in model.nodes {
            guard let record = node.source as? GraphDefNodeRecord else { continue }
            guard gainedBias(node), let bias = node.weight(.bias), bias.storageKey.isEmpty else { continue }
            let out = record.outputNodeDef
            let constName = unique("\(out)/bnconv_bias")
            let addName = unique("\(out)/bnconv_bias_add")
            let dtype = TensorFlowDataType.dtype(record.dataType) ?? bias.tensor.dtype
            let format = GraphDefLayoutEdits.layout(of: node.op, rank: nil).map { $0 == .channelsFirst ? "NCHW" : "NHWC" } ?? record.dataFormat
            // Readers of the op's output now read the BiasAdd.
            for (name, ins) in inputsOf where !deleted.contains(name) {
                let moved = ins.map { input -> String in
                    let r = GraphDefGraph.parse(input)
                    return !r.isControl && r.node == out && r.output == 0 ? addName : input
                }
                if moved != ins { inputsOf[name] = moved; changed.insert(name) }
            }
            added.append(ProtobufNodeDef(name: constName, op: "Const", inputs: [], attributes: [
                ("dtype", .type(TensorFlowDataType.value(dtype))),
                ("value", .tensor(GraphDefTensorCodec.encode(bias.tensor.converted(to: dtype), dims: [bias.tensor.count]))),
            ]))
            added.append(ProtobufNodeDef(name: addName, op: "BiasAdd", inputs: [out, constName], attributes: [
                ("T", .type(record.dataType)),
                ("data_format", .bytes(Array(format.utf8))),
            ]))
        }

        // Control inputs naming deleted nodes go; a data input naming one is an error.
        for (name, ins) in inputsOf where !deleted.contains(name) {
            var kept = [String]()
            for input in ins {
                let r = GraphDefGraph.parse(input)
                if deleted.contains(r.node) {
                    if r.isControl { continue }
                    throw CheckpointError(.writeFailed, file: file, place: name, problem:
                        "it would read '\(input)', which the edited model no longer computes")
                }
                kept.append(input)
            }
            if kept != ins { inputsOf[name] = kept; changed.insert(name) }
        }
        message.removeNodes(named: deleted)
        for (name, def) in layout.replaced where !deleted.contains(name) {
            message.replaceNode(named: name, with: def)
        }
        for name in changed.sorted() where !deleted.contains(name) {
            message.setInputs(ofNode: name, to: inputsOf[name]!)
        }
        for node in added { message.append(node) }
        return message.packed()
    }

    /// The op with `useBias` cleared (the one attribute a fold may change).
    private static func withoutBias(_ op: Op) -> Op {
        switch op {
        case .conv(var c): c.useBias = false; return .conv(c)
        case .depthwiseConv(var c): c.useBias = false; return .depthwiseConv(c)
        case .separableConv(var c): c.useBias = false; return .separableConv(c)
        case .convTranspose(var c): c.useBias = false; return .convTranspose(c)
        case .dense(var d): d.useBias = false; return .dense(d)
        default: return op
        }
    }

    /// The op with its layout attributes and axes cleared (what ``GraphDefLayoutEdits`` rewrites).
    private static func withoutLayout(_ op: Op) -> Op {
        switch op {
        case .conv(var c): c.layout = .channelsLast; return .conv(c)
        case .depthwiseConv(var c): c.layout = .channelsLast; return .depthwiseConv(c)
        case .separableConv(var c): c.layout = .channelsLast; return .separableConv(c)
        case .convTranspose(var c): c.layout = .channelsLast; return .convTranspose(c)
        case .pool(var p): p.layout = .channelsLast; return .pool(p)
        case .globalPool(var g): g.layout = .channelsLast; return .globalPool(g)
        case .pad(let p, _): return .pad(padding: p, layout: .channelsLast)
        case .batchNorm(var bn): bn.axis = 0; return .batchNorm(bn)
        case .concat: return .concat(axis: 0)
        case .softmax: return .softmax(axis: 0)
        default: return op
        }
    }

    /// Whether a conv/dense node now adds a bias it did not store before.
    private static func gainedBias(_ node: Node) -> Bool {
        switch node.op {
        case .conv(let c), .depthwiseConv(let c), .convTranspose(let c), .separableConv(let c): return c.useBias
        case .dense(let d): return d.useBias
        default: return false
        }
    }
}
