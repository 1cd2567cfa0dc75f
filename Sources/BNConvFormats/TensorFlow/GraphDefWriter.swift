import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a ``Model`` read by ``GraphDefReader`` back as a TensorFlow frozen GraphDef.
///
/// The file is re-emitted from the graph as read (``GraphDefSource``) plus the edits a pass made:
/// - a removed node deletes its NodeDefs, then the Consts / Identity chains / shape-only nodes
///   behind its weights that nothing else reads any more, and control inputs naming them;
/// - a rewired node input rewrites the NodeDef input it was read from;
/// - a modified weight rewrites its Const's tensor (in the Const's own dtype, as `tensor_content`);
/// - a BatchNorm whose training mode changed (`--assume-inference` on a BN that is kept) sets
///   `is_training` on its FusedBatchNorm NodeDef, keeping its other attributes and unknown fields;
/// - a conv/dense node that gained a bias (`useBias` with a `bias` weight that has no storage key)
///   gets a new `BiasAdd` + `Const` after its output NodeDef, under names that collide with no
///   existing node, and its readers are moved onto the BiasAdd.
/// Untouched NodeDefs (and fields bnconv does not model) are written back byte for byte. A node
/// a pass created from scratch cannot be expressed and is refused with a clear error.
public enum GraphDefWriter {
    /// Writes `model` to `path` through ``AtomicFile`` (a synced temporary file beside it,
    /// renamed over `path` on success; nothing is written on error).
    public static func write(_ model: Model, to path: String) throws {
        try write(model, changes: nil, to: path)
    }

    /// ``write(_:to:)`` with the model's ``ModelChanges`` worked out already (`nil`: worked out here).
    static func write(_ model: Model, changes: ModelChanges?, to path: String) throws {
        let emit = try plan(model, changes: changes, file: path)
        try AtomicFile.write(to: path) { temporary in
            // Const contents still to be computed (folded kernels of a fold without verification)
            // are left as gaps, filled on the other cores as soon as the packing has passed them.
            let gaps = ComputedTensorGaps(path: temporary, target: path)
            try ByteSink.writing(to: temporary, file: path) { try emit($0) { gaps.add($0, at: $1) } }
            try gaps.finish()
        }
    }

    /// The GraphDef bytes for `model`; `file` names the target in errors.
    public static func serialize(_ model: Model, file: String) throws -> [UInt8] {
        let emit = try plan(model, changes: nil, file: file)
        let sink = ByteSink()
        try emit(sink, nil)
        try sink.finish()
        return sink.bytes
    }

    /// Maps the model's ``ModelChanges`` (`changes`, or worked out here) onto the graph, then
    /// returns what writes the file in one pass: the graph as read, untouched NodeDefs copied byte
    /// for byte, edited ones re-encoded, new ones appended. Given a gap handler, it leaves gaps for
    /// the contents still to be computed and hands each to it with its offset.
    private static func plan(_ model: Model, changes: ModelChanges?, file: String) throws -> (ByteSink, ((Tensor, Int) -> Void)?) throws -> Void {
        guard let source = model.source as? GraphDefSource else {
            throw CheckpointError(.unsupported, file: file, problem:
                "the model was not read from a TensorFlow GraphDef; bnconv writes GraphDefs only by editing one it read")
        }
        guard let changes = changes ?? ModelChanges(model) else { throw CheckpointError.noReadOutline(file: file) }
        let original = source.nodeDefs
        var position = [String: Int]()
        for (i, n) in original.enumerated() where position[n.name] == nil { position[n.name] = i }
        var edits = [Int: ProtobufNodeDefEdit]()
        var inputsOf = [String: [String]]()
        var constDType = [String: DType]()
        for n in original {
            inputsOf[n.name] = n.inputs
            if n.op == "Const", case .tensor(let t)? = n.attribute("value") { constDType[n.name] = TensorFlowDataType.dtype(t.dtype) }
        }
        var changed = Set<String>()

        // Removed nodes (matched by the node they were read as, so a renamed node is not one)
        // and what only they used.
        let removed = changes.removed.compactMap { source.readNodes[$0.name] }
        var deleted = Set(removed.flatMap(\.nodeDefNames))
        let candidates = Set(removed.flatMap(\.auxiliaryNames))

        var names = NameAllocator(taken: source.nodeDefNames)
        // A layout conversion: attributes, axis constants, inserted transposes.
        let layout = try GraphDefLayoutEdits(model: model, changes: changes, original: Dictionary(original.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
                                             file: file, limits: source.limits, names: &names)
        for (nodeDef, index, input) in layout.inputs {
            inputsOf[nodeDef]?[index] = input
            changed.insert(nodeDef)
        }

        // Rewired inputs (and training-mode switches, written as attribute edits).
        var attributeEdits = [(nodeDef: String, key: String, value: ProtobufAttrValue)]()
        for change in changes.nodes {
            let node = model.nodes[change.index]
            guard let read = change.asRead, let record = node.source as? GraphDefNodeRecord else {
                if case .permute = node.op { continue }
                throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                    "this \(node.opName) node was created by a pass; bnconv cannot express new layers in a GraphDef (only inserted transposes)")
            }
            guard !change.opChanged || withoutLayout(withoutTraining(withoutBias(node.op))) == withoutLayout(withoutTraining(withoutBias(read.op))) else {
                throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                    "its attributes changed (\(read.op) -> \(node.op)); GraphDef writing supports weight, bias, wiring and is_training edits only")
            }
            if case .batchNorm(let bn) = node.op, case .batchNorm(let readBN) = read.op, bn.training != readBN.training {
                // `--assume-inference` on a BN that stays: its FusedBatchNorm NodeDef gets is_training.
                guard let fused = record.nodeDefs.first(where: { $0.op.hasPrefix("FusedBatchNorm") }) else {
                    throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                        "its training mode changed, but it has no FusedBatchNorm NodeDef whose is_training could say so")
                }
                attributeEdits.append((fused.name, "is_training", .bool(bn.training)))
            }
            guard node.inputs.count == record.inputSlots.count else {
                throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                    "the node now has \(node.inputs.count) inputs instead of \(record.inputSlots.count); GraphDef writing cannot add or drop inputs")
            }
            for rewiring in change.rewiredInputs {
                for slot in [record.inputSlots[rewiring.slot]] + record.mirrorSlots[rewiring.slot] {
                    inputsOf[slot.nodeDef]?[slot.index] = layout.tensorNames[rewiring.now] ?? rewiring.now
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

        // Modified weights. A Const several nodes read (a BN's moving statistics read by both
        // branches of a tf.cond, recalibrated) is written once; two nodes asking for different
        // values of it is refused.
        var rewritten = Set<String>()
        var writtenValues: [String: Tensor] = [:]
        for change in changes.nodes {
            let node = model.nodes[change.index]
            guard let asRead = change.asRead, let record = node.source as? GraphDefNodeRecord else { continue }
            for w in node.weights where change.weight(w.role)?.kind == .modified && !w.storageKey.isEmpty {
                guard !deleted.contains(w.storageKey), let dtype = constDType[w.storageKey] else {
                    throw CheckpointError(.writeFailed, file: file, place: node.name,
                                          problem: "weight \(w.role) is stored in '\(w.storageKey)', which is not a Const of the graph")
                }
                guard let read = asRead.weights.first(where: { $0.storageKey == w.storageKey }), read.layout == w.layout else {
                    throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                        "weight \(w.role) is now laid out \(w.layout.rawValue); TensorFlow reads '\(w.storageKey)' in the layout it had")
                }
                // Same shape as read: keep the Const's stored dims (a bias may be stored as [1,1,1,C]),
                // unless the layout change stores it with another broadcast shape.
                let dims = layout.reshapedConstants[w.storageKey]
                    ?? (read.shape == w.tensor.shape ? (record.storedDims[w.storageKey] ?? read.shape) : w.tensor.shape)
                guard let at = position[w.storageKey] else { continue }
                if let first = writtenValues[w.storageKey] {
                    guard first == w.tensor else {
                        throw CheckpointError(.unsupported, file: file, place: node.name, problem:
                            "weight \(w.role) is stored in '\(w.storageKey)', which another node reading it changed to other values")
                    }
                    continue
                }
                writtenValues[w.storageKey] = w.tensor
                if w.tensor.isDeferred && w.tensor.dtype == dtype {
                    // Still to be computed (a folded kernel of a fold without verification): its
                    // bytes are made when its Const is written, one at a time.
                    let proto = ProtobufTensorProto(dtype: TensorFlowDataType.value(dtype), shape: dims.map(Int64.init))
                    edits[at, default: ProtobufNodeDefEdit()].computedTensors.append(("value", proto, w.tensor))
                } else {
                    edits[at, default: ProtobufNodeDefEdit()].tensors.append(
                        ("value", GraphDefTensorCodec.encode(try w.tensor.materialized().converted(to: dtype), dims: dims)))
                }
                rewritten.insert(w.storageKey)
            }
        }
        // Consts the layout change stores with another shape (same values).
        for (name, dims) in layout.reshapedConstants.sorted(by: { $0.key < $1.key }) where !rewritten.contains(name) && !deleted.contains(name) {
            guard let def = original.first(where: { $0.name == name }), case .tensor(let proto)? = def.attribute("value") else {
                throw CheckpointError(.writeFailed, file: file, place: name, problem: "not a Const with a tensor value")
            }
            let tensor = try GraphDefTensorCodec.decode(proto, file: file, place: name, limits: source.limits, storage: source.graph.mappedFile)
            guard let at = position[name] else { continue }
            edits[at, default: ProtobufNodeDefEdit()].tensors.append(("value", GraphDefTensorCodec.encode(tensor, dims: dims)))
        }

        // New biases.
        var added = layout.added
        for change in changes.nodes where change.weight(.bias)?.kind == .added {
            let node = model.nodes[change.index]
            guard let record = node.source as? GraphDefNodeRecord else { continue }
            guard gainedBias(node), let bias = node.weight(.bias), bias.storageKey.isEmpty else { continue }
            let out = record.outputNodeDef
            let constName = names.claim("\(out)/bnconv_bias")
            let addName = names.claim("\(out)/bnconv_bias_add")
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
        for (name, def) in layout.replaced where !deleted.contains(name) {
            guard let at = position[name] else { continue }
            edits[at, default: ProtobufNodeDefEdit()].replacement = def
        }
        for edit in attributeEdits where !deleted.contains(edit.nodeDef) {
            guard let at = position[edit.nodeDef] else { continue }
            edits[at, default: ProtobufNodeDefEdit()].attributes.append((edit.key, edit.value))
        }
        for name in changed where !deleted.contains(name) {
            guard let at = position[name] else { continue }
            edits[at, default: ProtobufNodeDefEdit()].inputs = inputsOf[name]!
        }
        let gone = Set(deleted.compactMap { position[$0] })
        for i in gone { edits[i] = nil }
        let graph = source.graph
        return { sink, gap in try graph.write(to: sink, edits: edits, deleted: gone, appending: added, gap: gap) }
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

    /// The op with a BatchNorm's training flag cleared (written back as `is_training`).
    private static func withoutTraining(_ op: Op) -> Op {
        guard case .batchNorm(var bn) = op else { return op }
        bn.training = false
        return .batchNorm(bn)
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
        case .reshape: return .reshape(targetShape: [])
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
