import BNConvCore
import BNConvModel
import BNConvInterop

/// Maps, for ``ONNXWriter``, a ``Model``'s ``ModelChanges`` onto the ONNX graph it was read
/// from, as an ``ONNXGraphEdit``: which original nodes to re-emit with which names, which
/// initializers to keep, replace or add, and which inputs, outputs and value_infos survive.
struct ONNXWritePlan {
    /// The model to write.
    let model: Model
    /// What passes changed since the graph was read.
    let changes: ModelChanges
    /// The graph it was read from.
    let proto: ONNXProto.Model
    /// The target file, for error messages.
    let file: String
    /// Every name in use in the original graph or the model (values, initializers, nodes).
    private var names: NameAllocator
    /// Graph outputs renamed back: model value -> original output name.
    private var renames: [String: String] = [:]
    /// New values of original initializers, by index: in memory, or still to be computed (deferred).
    private var replaced: [Int: (Int32, [Int64], Tensor)] = [:]
    private var newInitializers: [(String, Int32, [Int64], [UInt8])] = []
    private let initializerIndex: [String: Int]
    /// Constant nodes read as constants: output name -> graph index.
    private let constants: [String: Int]

    /// Prepares a plan for `model`, whose changes are `changes`; throws when the model's outputs
    /// no longer match the graph's.
    init(model: Model, record: ONNXModelRecord, changes: ModelChanges, file: String) throws {
        self.model = model
        self.changes = changes
        self.proto = record.proto
        self.file = file
        var index: [String: Int] = [:]
        for (i, t) in proto.initializers.enumerated() where index[t.name] == nil { index[t.name] = i }
        initializerIndex = index
        constants = record.constants
        names = NameAllocator(taken: proto.initializers.map(\.name))
        for node in proto.nodes { names.reserve(node.inputs); names.reserve(node.outputs); names.reserve(node.name) }
        names.reserve(proto.inputs.map(\.name))
        names.reserve(proto.outputs.map(\.name))
        names.reserve(model.values.keys)
        for node in model.nodes { names.reserve(node.name); names.reserve(node.outputs) }

        let original = changes.asRead.outputs
        guard !changes.outputCountChanged else {
            throw CheckpointError(.unsupported, file: file, place: "graph outputs",
                                  problem: "the model has \(model.outputs.count) outputs but the ONNX graph had \(original.count)")
        }
        let produced = Set(model.nodes.flatMap(\.outputs)).union(model.inputs)
        for output in changes.outputs {
            let (m, o) = (output.now, output.asRead)
            if !produced.contains(o), !model.inputs.contains(m), !original.contains(m), renames[m] == nil {
                renames[m] = o
            }
        }
    }

    private func renamed(_ value: String) -> String { renames[value] ?? value }

    /// Builds the edit; throws for nodes or changes the ONNX writer cannot express.
    mutating func makeEdit() throws -> ONNXGraphEdit {
        // Model nodes first, each with the graph index it was read from (its anchor).
        var modelItems: [(anchor: Int?, item: ONNXGraphEdit.NodeItem)] = []
        for change in changes.nodes {
            let node = model.nodes[change.index]
            if case .input = node.op { continue }
            if change.asRead == nil, node.source == nil, case .permute(let dims) = node.op, node.inputs.count == 1, node.outputs.count == 1 {
                // A transpose a pass inserted (at the interface, by a layout conversion).
                modelItems.append((nil, .new(ONNXProto.Node(name: names.claim(node.name), opType: "Transpose", domain: "",
                                                            inputs: [renamed(node.inputs[0])], outputs: [renamed(node.outputs[0])],
                                                            attributes: [ONNXExportGraph.ints("perm", [0] + dims)]))))
                continue
            }
            guard change.asRead != nil, let record = node.source as? ONNXNodeRecord else {
                throw CheckpointError(.unsupported, file: file, place: "node '\(node.name)'",
                                      problem: "the node was created by a pass and has no ONNX record to write (\(node.opName))")
            }
            let anchor = record.parts.first?.index
            modelItems += try items(for: node, change: change, record: record).map { (anchor, $0) }
        }
        func inputs(_ item: ONNXGraphEdit.NodeItem) -> [String] {
            switch item {
            case let .original(_, inputs, _): return inputs
            case .new(let n): return n.inputs
            }
        }
        func outputs(_ item: ONNXGraphEdit.NodeItem) -> [String] {
            switch item {
            case let .original(_, _, outputs): return outputs
            case .new(let n): return n.outputs
            }
        }
        let readNow = Set(modelItems.flatMap { inputs($0.item) })
        let readBefore = Set(proto.nodes.flatMap(\.inputs))

        // Constant nodes still read (or never read) go back where they were, before the first
        // model node that came after them in the original graph.
        var pending = constants.filter { readNow.contains($0.key) || !readBefore.contains($0.key) }.map(\.value).sorted()
        var nodes: [ONNXGraphEdit.NodeItem] = []
        func emitConstants(before anchor: Int?) {
            while let first = pending.first, anchor.map({ first < $0 }) ?? true {
                pending.removeFirst()
                nodes.append(.original(index: first, inputs: proto.nodes[first].inputs, outputs: proto.nodes[first].outputs))
            }
        }
        for (anchor, item) in modelItems {
            if let anchor { emitConstants(before: anchor) }
            nodes.append(item)
        }
        emitConstants(before: nil)
        let emittedInputs = nodes.map(inputs)
        let emittedOutputs = nodes.map(outputs)

        // Initializers: keep those still read, and those no node read in the first place.
        var initializers: [ONNXGraphEdit.InitializerItem] = []
        var keptInitializers = Set<String>()
        for (i, t) in proto.initializers.enumerated() where readNow.contains(t.name) || !readBefore.contains(t.name) {
            keptInitializers.insert(t.name)
            if let (dataType, dims, tensor) = replaced[i] {
                // A folded kernel still deferred is computed when the message is written.
                initializers.append(tensor.isDeferred ? .computed(index: i, dataType: dataType, dims: dims, content: tensor)
                                                      : .replaced(index: i, dataType: dataType, dims: dims, rawData: tensor.bytes))
            } else {
                initializers.append(.original(index: i))
            }
        }
        for (name, dataType, dims, raw) in newInitializers {
            keptInitializers.insert(name)
            initializers.append(.new(name: name, dataType: dataType, dims: dims, rawData: raw))
        }

        let modelInputs = Set(model.inputs)
        let inputs = proto.inputs.indices.filter {
            let name = proto.inputs[$0].name
            return initializerIndex[name] == nil ? modelInputs.contains(name) : keptInitializers.contains(name)
        }

        // Every node input must be written earlier, be a graph input or an initializer.
        var defined = Set(inputs.map { proto.inputs[$0].name }).union(keptInitializers)
        for (ins, outs) in zip(emittedInputs, emittedOutputs) {
            for v in ins where !v.isEmpty && !defined.contains(v) {
                throw CheckpointError(.unsupported, file: file, place: "value '\(v)'",
                                      problem: "a node reads it but nothing in the written graph defines it")
            }
            defined.formUnion(outs)
        }
        let outputs = model.outputs.enumerated().map { (index: $0.offset, name: renamed($0.element)) }
        for o in outputs where !defined.contains(o.name) {
            throw CheckpointError(.unsupported, file: file, place: "graph output '\(o.name)'", problem: "nothing in the written graph defines it")
        }
        let permuted = permutedInterfaces(outputs: outputs)
        let live = defined.union(readNow)
        // A value_info of an input or output whose layout changed would contradict its new shape.
        let valueInfos = proto.valueInfos.indices.filter { live.contains(proto.valueInfos[$0].name) && permuted[proto.valueInfos[$0].name] == nil }
        var edit = ONNXGraphEdit(nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs, valueInfos: valueInfos)
        edit.permutedShapes = permuted
        if proto.irVersion < 4 {
            // IR 3 lists every initializer as a graph input: new ones too.
            edit.newInputs = newInitializers.map { (name: $0.0, elemType: $0.1, dims: $0.2) }
        }
        return edit
    }

    /// The graph inputs and outputs (by written name) whose declared layout differs from the one
    /// they were read with, each with the permutation that turns the declared shape as read into
    /// the new one.
    private func permutedInterfaces(outputs: [(index: Int, name: String)]) -> [String: [Int]] {
        var permuted: [String: [Int]] = [:]
        func permutation(was: String, now: String) -> [Int]? {
            guard let before = changes.asRead.boundaryLayouts[was], let after = model.values[now]?.layout, before != after,
                  let rank = model.values[now]?.shape?.count, rank >= 3 else { return nil }
            return [0] + LayoutPermutation.permuteDims(rank: rank, from: before, to: after)
        }
        for input in model.inputs where proto.inputs.contains(where: { $0.name == input }) {
            if let p = permutation(was: input, now: input) { permuted[input] = p }
        }
        for (position, output) in outputs.enumerated() where position < changes.asRead.outputs.count {
            if let p = permutation(was: changes.asRead.outputs[output.index], now: model.outputs[position]) { permuted[output.name] = p }
        }
        return permuted
    }

    /// The graph nodes for one model node (`change` sets it next to the node read, described by
    /// `record`): its original parts re-wired, plus an `Add` when a lone `MatMul` gained a bias.
    private mutating func items(for node: Node, change: ModelChanges.NodeChange, record: ONNXNodeRecord) throws -> [ONNXGraphEdit.NodeItem] {
        let place = "node '\(node.name)'"
        guard let read = change.asRead else {
            throw CheckpointError(.unsupported, file: file, place: place, problem: "the node was created by a pass and has no ONNX record to write")
        }
        // The writer re-emits the original attributes: any change to the op but a bias turned on
        // (strides, layout, groups, ...) must be refused, not silently dropped.
        guard !change.opChanged || ONNXNodeRecord.normalized(node.op) == ONNXNodeRecord.normalized(read.op) else {
            throw CheckpointError(.unsupported, file: file, place: place,
                                  problem: "its \(node.opName) attributes changed (for example a layout conversion), which the ONNX writer cannot express: it re-emits the original NodeProto")
        }
        for w in node.weights {
            guard let was = read.weight(w.role) else { continue }
            if was.layout != w.layout {
                throw CheckpointError(.unsupported, file: file, place: place,
                                      problem: "its \(w.role) layout changed from \(was.layout.rawValue) to \(w.layout.rawValue), which ONNX \(record.parts.last?.opType ?? "") cannot hold")
            }
            if was.count != w.tensor.count {
                throw CheckpointError(.unsupported, file: file, place: place,
                                      problem: "its \(w.role) changed size from \(was.count) to \(w.tensor.count) values \(w.tensor.shape)")
            }
        }
        var weightNames: [WeightRole: String] = [:]
        for w in node.weights {
            weightNames[w.role] = try storageName(for: w, changed: change.weight(w.role) != nil, node: node)
        }
        let slotted = Set(record.parts.flatMap(\.inputs).compactMap { slot -> WeightRole? in
            if case .weight(let r) = slot { return r } else { return nil }
        })
        let usedInputs = Set(record.parts.flatMap(\.inputs).compactMap { slot -> Int? in
            if case .value(let k) = slot { return k } else { return nil }
        })
        let usedOutputs = Set(record.parts.flatMap(\.outputs).compactMap { slot -> Int? in
            if case .value(let k) = slot { return k } else { return nil }
        })
        guard usedInputs == Set(node.inputs.indices), usedOutputs == Set(node.outputs.indices) else {
            throw CheckpointError(.unsupported, file: file, place: place,
                                  problem: "its inputs or outputs changed in number (\(node.inputs.count) in, \(node.outputs.count) out), which the ONNX writer cannot express")
        }

        var parts: [(index: Int, opType: String, inputs: [String], outputs: [String])] = try record.parts.map { part in
            let ins = try part.inputs.map { slot -> String in
                switch slot {
                case .value(let k): return renamed(node.inputs[k])
                case .fixed(let s): return s
                case .weight(let role):
                    guard let name = weightNames[role] else {
                        throw CheckpointError(.unsupported, file: file, place: place,
                                              problem: "its \(role) weight was removed, which the ONNX writer cannot express")
                    }
                    return name
                }
            }
            let outs = part.outputs.map { slot -> String in
                switch slot {
                case .value(let k): return renamed(node.outputs[k])
                case .fixed(let s): return s
                case .weight: return ""
                }
            }
            return (part.index, part.opType, ins, outs)
        }

        var extra: [ONNXGraphEdit.NodeItem] = []
        for w in node.weights where !slotted.contains(w.role) {
            guard w.role == .bias, let name = weightNames[.bias] else {
                throw CheckpointError(.unsupported, file: file, place: place,
                                      problem: "it gained a \(w.role) weight, which the ONNX writer cannot place")
            }
            let last = parts.count - 1
            switch parts[last].opType {
            case "Conv", "ConvTranspose", "Gemm":
                while parts[last].inputs.count < 3 { parts[last].inputs.append("") }
                guard parts[last].inputs[2].isEmpty else {
                    throw CheckpointError(.unsupported, file: file, place: place, problem: "its bias slot is already taken")
                }
                parts[last].inputs[2] = name
            case "MatMul" where parts.count == 1 && parts[0].outputs.count == 1:
                let output = parts[0].outputs[0]
                let product = names.claim("\(output)_matmul")
                parts[0].outputs = [product]
                extra.append(.new(ONNXProto.Node(name: names.claim("\(node.name)_bias_add"), opType: "Add", domain: "",
                                                 inputs: [product, name], outputs: [output], attributes: [])))
            default:
                throw CheckpointError(.unsupported, file: file, place: place,
                                      problem: "it gained a bias, which \(parts[last].opType) cannot take")
            }
        }
        return parts.map { .original(index: $0.index, inputs: $0.inputs, outputs: $0.outputs) } + extra
    }

    /// The initializer name for a weight whose values differ from the file when `changed`
    /// (modified or added), recording a replacement or a new initializer.
    private mutating func storageName(for weight: Weight, changed: Bool, node: Node) throws -> String {
        let dataType = ONNXTensorCodec.dataType(of: weight.tensor.dtype)
        let dims = weight.tensor.shape.map { Int64($0) }
        if let i = initializerIndex[weight.storageKey] {
            if changed { replaced[i] = (dataType, dims, weight.tensor) }
            return weight.storageKey
        }
        if constants[weight.storageKey] != nil && !changed {
            return weight.storageKey  // still held by its Constant node
        }
        let base = weight.storageKey.isEmpty ? "\(node.name).\(weight.role)" : weight.storageKey
        let name = names.claim(base)
        newInitializers.append((name, dataType, dims, try weight.tensor.materialized().bytes))
        return name
    }
}
