import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads a TensorFlow frozen GraphDef (`.pb`) into a format-neutral ``Model``.
///
/// Node patterns become typed ops (Conv2D [+ BiasAdd] -> `conv`, MatMul [+ BiasAdd] -> `dense`,
/// FusedBatchNorm* and the decomposed `tf.nn.batch_normalization` chain -> `batchNorm`, ...);
/// anything else is kept as an `opaque` node. Weights are the Const tensors behind Identity /
/// ReadVariableOp chains, in their stored layout and dtype. Value names are TensorFlow tensor
/// names (`node` for output 0, `node:k` otherwise). Every node keeps a ``GraphDefNodeRecord`` and
/// the model a ``GraphDefSource``, so ``GraphDefWriter`` can write the file back with edits.
public enum GraphDefReader {
    /// Reads the GraphDef at `path`. With `deferringFrom` (a byte count), a regular file is read
    /// where it lies, through a read-only mapping, and the Const weights of that size or more stay
    /// in it until used (``Tensor/isDeferred``): a fold without verification never holds them all,
    /// and the writer computes each folded one when it writes it. The file must not change while
    /// the model holds them.
    public static func read(_ path: String, deferringFrom minimumBytes: Int? = nil, options: ReadOptions = ReadOptions()) throws -> Model {
        if let minimumBytes, let mapped = mappedFile(path) {
            let model = try model(message: try ProtobufGraphDefFile(mapping: mapped, file: path), file: path, lendingFrom: minimumBytes,
                                  options: options)
            return try ModelFinisher(layouts: .derived).finish(model, file: path)
        }
        return try read(bytes: try FileBytes.contents(of: path, limit: ProtobufWireCheck.maximumMessageBytes), file: path, options: options)
    }

    /// `path` opened for mapping when it is a regular file within protobuf's size limit (anything
    /// else is read into memory, with the errors that read gives).
    private static func mappedFile(_ path: String) -> MappedFile? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= ProtobufWireCheck.maximumMessageBytes,
              let mapped = MappedFile(path: path), mapped.size == Int(info.st_size) else { return nil }
        return mapped
    }

    /// Reads a GraphDef from `bytes`; `file` names it in errors. `freezing` records how the graph
    /// was frozen from a checkpoint or SavedModel, when it was (``GraphDefSource/freezing``).
    public static func read(bytes: [UInt8], file: String, options: ReadOptions = ReadOptions(), freezing: FreezeReport? = nil) throws -> Model {
        // The graph index, the patterns and the groups live only inside `model(message:...)`: they
        // are gone before the finish step builds its own tables (a lower peak on large graphs).
        var model = try model(message: try ProtobufGraphDefFile(bytes: bytes, file: file), file: file, lendingFrom: nil, options: options)
        if let freezing, var source = model.source as? GraphDefSource {
            source.freezing = freezing
            model.source = source
        }
        // The shared finish step: validated; shapes flow from the Placeholders' declared shapes
        // through the modelled ops, layouts from the ops' data_format.
        return try ModelFinisher(layouts: .derived).finish(model, file: file)
    }

    /// The model of the GraphDef `message`, not yet through the finish step; Const contents of
    /// `lendingFrom` bytes or more of a mapped file stay in it (deferred weights).
    private static func model(message: ProtobufGraphDefFile, file: String, lendingFrom minimumBytes: Int?, options: ReadOptions) throws -> Model {
        if let refusal = options.limits.nodeRefusal(count: message.nodeCount) {
            throw CheckpointError(.unsupported, file: file, problem: refusal)
        }
        let nodeDefs = try message.nodeDefs(lendingFrom: minimumBytes)
        // The nodes are copied out: the pages parsing touched need not stay mapped.
        message.dropResidentPages()
        guard !nodeDefs.isEmpty else {
            throw CheckpointError(.malformed, file: file, problem: "the protobuf message has no nodes: not a TensorFlow GraphDef")
        }
        let graph = try GraphDefGraph(nodes: nodeDefs, file: file, limits: options.limits, storage: message.mappedFile)
        if let refusal = options.limits.totalRefusal("the Const nodes", declared: graph.declaredConstantBytes(), fileBytes: message.byteCount) {
            throw CheckpointError(.unsupported, file: file, problem: refusal)
        }
        var patterns = GraphDefPatterns(graph: graph)

        // 1. Multi-node patterns, anchored at their key op, in topological order.
        var groups = [GraphDefGroup]()
        groups.reserveCapacity(graph.nodes.count)
        for i in graph.order {
            if let g = try patterns.matchAnchor(i) { groups.append(g) }
        }
        // 2. Every other node that computes something on its own.
        // Assert and NoOp do nothing at inference (their inputs still run when something else reads them).
        let skipped: Set<String> = ["NoOp", "Assert"]
        // A Switch is the node of one of its outputs (a constant predicate's taken one); another
        // output becomes a node when one reads it (3.).
        for i in graph.order where !patterns.claimed.contains(i) && !skipped.contains(graph.nodes[i].op)
            && !graph.isConstant(graph.nodes[i].name) && !graph.isSwitchWithTakenOutputUnread(i) {
            groups.append(try patterns.single(i))
        }
        // 3. Constant-only nodes that a node reads as an input (not as a weight) become nodes too,
        // and so does each Switch output a node reads that no node writes yet.
        var emitted = Set(groups.flatMap(\.members))
        var pending = groups.flatMap { $0.inputs.map(\.value) }
        while let v = pending.popLast() {
            if patterns.isSwitchOutput(v) {
                if let output = patterns.switchOutput(v) {
                    pending.append(contentsOf: output.inputs.map(\.value))
                    groups.append(output)
                }
                continue
            }
            guard let p = graph.producer(of: v), !emitted.contains(p) else { continue }
            emitted.insert(p)
            let g = try patterns.single(p)
            pending.append(contentsOf: g.inputs.map(\.value))
            groups.append(g)
        }
        // 4. Nodes in topological order of their output NodeDef.
        var position = [Int](repeating: 0, count: graph.nodes.count)
        for (k, i) in graph.order.enumerated() { position[i] = k }
        groups.sort { position[$0.output] < position[$1.output] }

        // A Mean/Max read as a global pooling stays one only on an input proven 4-D; a Conv2D
        // whose input is deeper than its filter is grouped.
        return GraphDefConvolutionGroups.grouped(
            GraphDefReductions.provingGlobalPools(try assemble(groups, graph: graph, message: message, file: file)))
    }

    /// The model of `groups`, not yet through the finish step.
    private static func assemble(_ groups: [GraphDefGroup], graph: GraphDefGraph, message: ProtobufGraphDefFile, file: String) throws -> Model {
        var nodes = [Node]()
        var values = [String: ValueInfo]()
        var inputs = [String]()
        var records = [String: GraphDefNodeRecord]()
        nodes.reserveCapacity(groups.count)
        values.reserveCapacity(groups.count)
        records.reserveCapacity(groups.count)
        var names = NameAllocator()
        let branches = graph.conditions.switches.isEmpty ? nil : CondBranches(graph: graph)
        for g in groups {
            let name = names.claim(g.name)
            let outputNode = graph.nodes[g.output]
            var outputs = [outputNode.name]
            if let values = g.outputValues {
                outputs = values
            } else if case .opaque = g.op {
                // Every read output of an unmodelled op is a value.
                outputs += graph.secondaryOutputs(ofNode: outputNode.name)
            } else if g.outputCount > 1 {
                outputs += (1..<g.outputCount).map { "\(outputNode.name):\($0)" }
            }
            var weights = [Weight]()
            var storedDims = [String: [Int]]()
            for w in g.weights {
                var tensor = try graph.weightTensor(ofConstant: w.path.constant)
                let key = graph.nodes[w.path.constant].name
                storedDims[key] = tensor.shape
                if w.flatten, tensor.rank != 1 { tensor = try tensor.reshaped([tensor.count]) }
                weights.append(Weight(role: w.role, tensor: tensor, layout: w.layout, storageKey: key,
                                      isShared: w.path.isShared))
            }
            let dataType = dataTypeOf(outputNode)
            // Auxiliary NodeDefs reading one of the node's inputs (Shape(x)) are rewired with it.
            let mirrors = g.inputs.map { input in
                g.auxiliary.flatMap { a in
                    graph.dataInputs(a).filter { $0.value == input.value }
                        .map { GraphDefNodeRecord.InputSlot(nodeDef: graph.nodes[a].name, index: $0.slot) }
                }
            }
            let record = GraphDefNodeRecord(
                nodeDefNames: g.members.map { graph.nodes[$0].name },
                auxiliaryNames: g.auxiliary.map { graph.nodes[$0].name },
                nodeDefs: g.members.map { graph.nodes[$0] },
                inputSlots: g.inputs.map(\.slot), mirrorSlots: mirrors,
                outputNodeDef: outputNode.name, dataFormat: g.dataFormat, dataType: dataType,
                storedDims: storedDims, branch: branches?.description(ofValue: outputs[0]))
            records[name] = record
            nodes.append(Node(name: name, op: g.op, inputs: g.inputs.map(\.value), outputs: outputs,
                              weights: weights, source: record))
            var dtype = TensorFlowDataType.dtype(dataType) ?? .float32
            if case .tensor(let t) = g.op {
                // Ops whose output type is not their operands' (`T`).
                switch t.type {
                case _ where TensorOp.boolResults.contains(t.type): dtype = .bool
                case "TF.Shape", "TF.Size": if case .string(let raw)? = t.attributes["out_type"], let d = DType(rawValue: raw) { dtype = d }
                case "TF.Rank": dtype = .int32
                case "ArgMax", "ArgMin": dtype = .int64
                default: break
                }
            }
            for o in outputs { values[o] = ValueInfo(name: o, shape: nil, layout: layoutOf(g.op), dtype: dtype) }
            if g.op == .input {
                inputs.append(outputNode.name)
                if case .shape(let dims?)? = outputNode.attribute("shape") {
                    values[outputNode.name]?.shape = dims.map { $0 < 0 || $0 > Int64(Int32.max) ? nil : Int($0) }
                }
            }
        }
        // Outputs: values nothing reads (the graph's sinks), NoOps, unread constants and the sinks of
        // constant tf.cond control flow (untaken nodes, switch_t / switch_f anchors) aside.
        var outputs: [String] = []
        for node in nodes where node.op != .input {
            let v = node.outputs[0]
            // A sink: none of its outputs read (an unresolved Switch is read on one output only).
            guard node.outputs.allSatisfy({ graph.consumers[$0] == nil }) else { continue }
            if let record = node.source as? GraphDefNodeRecord, graph.isControlFlowSink(record.outputNodeDef) { continue }
            if case .opaque("Const") = node.op { continue }
            if node.op == GraphDefOpMapper.constantOp { continue }
            outputs.append(v)
        }
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let source = GraphDefSource(file: file, graph: message, nodeDefs: graph.nodes, readNodes: records,
                                    nodeDefNames: Set(graph.nodes.map(\.name)), limits: graph.limits)
        return Model(name: name, format: .graphDef, inputs: inputs, outputs: outputs, nodes: consume nodes, values: consume values, source: source)
    }

    /// The TensorFlow data type a node produces (`T`, or `dtype` for Const and Placeholder).
    private static func dataTypeOf(_ node: ProtobufNodeDef) -> Int32 {
        for key in ["T", "dtype", "DstT"] {
            if case .type(let t)? = node.attribute(key) { return t }
        }
        return TensorFlowDataType.float
    }

    /// The activation layout an op writes, when the op says it.
    private static func layoutOf(_ op: Op) -> DataLayout? {
        switch op {
        case .conv(let c), .depthwiseConv(let c), .convTranspose(let c), .separableConv(let c): return c.layout
        case .pool(let p): return p.layout
        default: return nil
        }
    }
}
