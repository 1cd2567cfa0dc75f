/// Works out, for ``ONNXWriter``, how a ``Model`` differs from the ONNX graph it was read from, as
/// an ``ONNXGraphEdit``: which original nodes to re-emit with which names, which initializers to
/// keep, replace or add, and which inputs, outputs and value_infos survive.
struct ONNXWritePlan {
    let model: Model
    let proto: ONNXProto.Model
    let file: String
    /// Every name in use in the original graph or the model (values, initializers, nodes).
    private var taken: Set<String>
    /// Graph outputs renamed back: model value -> original output name.
    private var renames: [String: String] = [:]
    private var replaced: [Int: (Int32, [Int64], [UInt8])] = [:]
    private var newInitializers: [(String, Int32, [Int64], [UInt8])] = []
    private let initializerIndex: [String: Int]

    /// Prepares a plan; throws when the model's outputs no longer match the graph's.
    init(model: Model, record: ONNXModelRecord, file: String) throws {
        self.model = model
        self.proto = record.proto
        self.file = file
        var index: [String: Int] = [:]
        for (i, t) in proto.initializers.enumerated() where index[t.name] == nil { index[t.name] = i }
        initializerIndex = index
        taken = Set(proto.initializers.map(\.name))
        for node in proto.nodes { taken.formUnion(node.inputs); taken.formUnion(node.outputs); taken.insert(node.name) }
        taken.formUnion(proto.inputs.map(\.name))
        taken.formUnion(proto.outputs.map(\.name))
        taken.formUnion(model.values.keys)
        for node in model.nodes { taken.insert(node.name); taken.formUnion(node.outputs) }

        let original = proto.outputs.map(\.name)
        guard model.outputs.count == original.count else {
            throw CheckpointError(.unsupported, file: file, place: "graph outputs",
                                  problem: "the model has \(model.outputs.count) outputs but the ONNX graph had \(original.count)")
        }
        let produced = Set(model.nodes.flatMap(\.outputs)).union(model.inputs)
        for (m, o) in zip(model.outputs, original) where m != o {
            if !produced.contains(o), !model.inputs.contains(m), !original.contains(m), renames[m] == nil {
                renames[m] = o
            }
        }
    }

    /// A name based on `base` that nothing uses yet (and reserves it).
    private mutating func fresh(_ base: String) -> String {
        var name = base
        var n = 1
        while taken.contains(name) {
            name = "\(base)_\(n)"
            n += 1
        }
        taken.insert(name)
        return name
    }

    private func renamed(_ value: String) -> String { renames[value] ?? value }

    /// Builds the edit; throws for nodes or changes the ONNX writer cannot express.
    mutating func makeEdit() throws -> ONNXGraphEdit {
        var nodes: [ONNXGraphEdit.NodeItem] = []
        var emittedInputs: [[String]] = []
        var emittedOutputs: [[String]] = []
        for node in model.nodes {
            if case .input = node.op { continue }
            guard let record = node.source as? ONNXNodeRecord else {
                throw CheckpointError(.unsupported, file: file, place: "node '\(node.name)'",
                                      problem: "the node was created by a pass and has no ONNX record to write (\(node.opName))")
            }
            for item in try items(for: node, record: record) {
                nodes.append(item)
                switch item {
                case let .original(_, inputs, outputs): emittedInputs.append(inputs); emittedOutputs.append(outputs)
                case .new(let n): emittedInputs.append(n.inputs); emittedOutputs.append(n.outputs)
                }
            }
        }

        // Initializers: keep those still read, and those no node read in the first place.
        let readNow = Set(emittedInputs.joined())
        let readBefore = Set(proto.nodes.flatMap(\.inputs))
        var initializers: [ONNXGraphEdit.InitializerItem] = []
        var keptInitializers = Set<String>()
        for (i, t) in proto.initializers.enumerated() where readNow.contains(t.name) || !readBefore.contains(t.name) {
            keptInitializers.insert(t.name)
            if let (dataType, dims, raw) = replaced[i] {
                initializers.append(.replaced(index: i, dataType: dataType, dims: dims, rawData: raw))
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
        let live = defined.union(readNow)
        let valueInfos = proto.valueInfos.indices.filter { live.contains(proto.valueInfos[$0].name) }
        return ONNXGraphEdit(nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs, valueInfos: valueInfos)
    }

    /// The graph nodes for one model node: its original parts re-wired, plus an `Add` when a lone
    /// `MatMul` gained a bias.
    private mutating func items(for node: Node, record: ONNXNodeRecord) throws -> [ONNXGraphEdit.NodeItem] {
        let place = "node '\(node.name)'"
        var weightNames: [WeightRole: String] = [:]
        for w in node.weights {
            weightNames[w.role] = storageName(for: w, node: node)
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
                let product = fresh("\(output)_matmul")
                parts[0].outputs = [product]
                extra.append(.new(ONNXProto.Node(name: fresh("\(node.name)_bias_add"), opType: "Add", domain: "",
                                                 inputs: [product, name], outputs: [output], attributes: [])))
            default:
                throw CheckpointError(.unsupported, file: file, place: place,
                                      problem: "it gained a bias, which \(parts[last].opType) cannot take")
            }
        }
        return parts.map { .original(index: $0.index, inputs: $0.inputs, outputs: $0.outputs) } + extra
    }

    /// The initializer name for a weight, recording a replacement or a new initializer.
    private mutating func storageName(for weight: Weight, node: Node) -> String {
        let dataType = ONNXTensorCodec.dataType(of: weight.tensor.dtype)
        let dims = weight.tensor.shape.map { Int64($0) }
        if let i = initializerIndex[weight.storageKey] {
            if weight.isModified { replaced[i] = (dataType, dims, weight.tensor.bytes) }
            return weight.storageKey
        }
        let base = weight.storageKey.isEmpty ? "\(node.name).\(weight.role)" : weight.storageKey
        let name = fresh(base)
        newInitializers.append((name, dataType, dims, weight.tensor.bytes))
        return name
    }
}
