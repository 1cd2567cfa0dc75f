import BNConvCore
import BNConvModel
import BNConvInterop

/// Turns a parsed Keras config plus the stored variables of each layer into ``Model`` nodes and
/// values. Nested models are flattened: their layers become nodes named `outer/inner`.
///
/// Value names: a layer call's first output is named like its node (`conv`, `inner_block/inner_conv`,
/// `shared#1` for the second call of a shared layer); further outputs add `:<tensor index>`.
struct KerasGraphBuilder {
    /// The config dialect (activation defaults differ).
    let dialect: KerasDialect
    /// Stored variables by layer path (`inner_block/inner_conv`).
    let variables: [String: [KerasStoredVariable]]
    /// Keras 3 store groups by layer path, for the records.
    let storeGroups: [String: String]

    private(set) var nodes: [Node] = []
    private(set) var values: [String: ValueInfo] = [:]
    private(set) var inputs: [String] = []
    private(set) var valueRefs: [String: [KerasValueRef]] = [:]
    private var usedVariables = Set<String>()

    /// Creates a builder.
    init(dialect: KerasDialect, variables: [String: [KerasStoredVariable]], storeGroups: [String: String] = [:]) {
        self.dialect = dialect
        self.variables = variables
        self.storeGroups = storeGroups
    }

    /// Builds the top-level container; returns the model outputs.
    mutating func build(_ container: KerasContainer) throws -> [String] {
        let outputs = try build(container, path: [], bound: nil)
        let unused = Set(variables.keys).subtracting(usedVariables).filter { !(variables[$0]?.isEmpty ?? true) }
        if let extra = unused.sorted().first {
            throw KerasConfigError(place: extra, problem: "the file stores weights for '\(extra)', which the architecture does not have")
        }
        return outputs
    }

    private func nodeName(_ path: [String], _ layer: String, call: Int) -> String {
        (path + [layer]).joined(separator: "/") + (call > 0 ? "#\(call)" : "")
    }

    private func valueName(_ node: String, tensor: Int) -> String { tensor == 0 ? node : "\(node):\(tensor)" }

    private mutating func define(_ value: String, shape: [Int?]?, ref: KerasValueRef) {
        if values[value] == nil { values[value] = ValueInfo(name: value, shape: shape) }
        else if values[value]?.shape == nil, let shape { values[value]?.shape = shape }
        addRef(ref, for: value)
    }

    private mutating func addRef(_ ref: KerasValueRef, for value: String) {
        if !(valueRefs[value] ?? []).contains(where: { $0.containerPath == ref.containerPath }) {
            valueRefs[value, default: []].append(ref)
        }
    }

    private mutating func note(shape: [Int?]?, of value: String, layout: DataLayout?) {
        if let shape, values[value]?.shape == nil { values[value]?.shape = shape }
        if let layout, let rank = values[value]?.shape?.count, rank >= 3 { values[value]?.layout = layout }
    }

    private mutating func build(_ container: KerasContainer, path: [String], bound: [String]?) throws -> [String] {
        container.isSequential
            ? try buildSequential(container, path: path, bound: bound)
            : try buildFunctional(container, path: path, bound: bound)
    }

    // MARK: Sequential

    private mutating func buildSequential(_ container: KerasContainer, path: [String], bound: [String]?) throws -> [String] {
        var current: String? = nil
        for entry in container.layers {
            if entry.className == "InputLayer" {
                if let bound, let value = bound.first {
                    // The nested model's InputLayer names the bound value in its own config.
                    addRef(KerasValueRef(containerPath: path, ref: KerasTensorRef(layer: entry.name, node: 0, tensor: 0)), for: value)
                    current = value
                    continue
                }
                current = try addInput(entry, path: path)
                continue
            }
            if current == nil {
                if let bound { current = bound.first } else { current = try addSyntheticInput(for: entry, path: path) }
            }
            guard let input = current else { throw KerasConfigError(place: entry.name, problem: "the Sequential model has no input") }
            if let nested = entry.nested {
                current = try build(nested, path: path + [entry.name], bound: [input]).first
                continue
            }
            current = try addLayerCall(entry, call: 0, callCount: 1, inputs: [input], inputShapes: [], outputCount: 1,
                                       path: path, ref: KerasTensorRef(layer: entry.name, node: 0, tensor: 0)).first
        }
        guard let current else { throw KerasConfigError(place: container.name, problem: "the Sequential model has no layers") }
        return [current]
    }

    private mutating func addSyntheticInput(for entry: KerasLayerEntry, path: [String]) throws -> String {
        let name = nodeName(path, entry.name + "_input", call: 0)
        let shape = KerasLayerEntry.shape(entry.config["batch_input_shape"] ?? entry.config["batch_shape"])
        guard let shape else {
            throw KerasConfigError(place: entry.name, problem: "the Sequential model declares no input shape")
        }
        // tf-keras names the implicit input layer `<first layer>_input`; it is not in the config.
        nodes.append(Node(name: name, op: .input, inputs: [], outputs: [name],
                          source: KerasLayerRecord(layerName: entry.name + "_input", className: "InputLayer", containerPath: path,
                                                   callIndex: 0, storedNames: [:])))
        define(name, shape: shape, ref: KerasValueRef(containerPath: path, ref: KerasTensorRef(layer: entry.name + "_input", node: 0, tensor: 0)))
        inputs.append(name)
        return name
    }

    private mutating func addInput(_ entry: KerasLayerEntry, path: [String]) throws -> String {
        let name = nodeName(path, entry.name, call: 0)
        let shape = KerasLayerEntry.shape(entry.config["batch_shape"] ?? entry.config["batch_input_shape"])
        nodes.append(Node(name: name, op: .input, inputs: [], outputs: [name],
                          source: KerasLayerRecord(layerName: entry.name, className: entry.className, containerPath: path,
                                                   callIndex: 0, storedNames: [:])))
        define(name, shape: shape, ref: KerasValueRef(containerPath: path, ref: KerasTensorRef(layer: entry.name, node: 0, tensor: 0)))
        if let rank = shape?.count, rank >= 3 { values[name]?.layout = .channelsLast }
        inputs.append(name)
        return name
    }

    // MARK: Functional

    private mutating func buildFunctional(_ container: KerasContainer, path: [String], bound: [String]?) throws -> [String] {
        // Which outputs of which calls anyone reads, and the node-index offset of each layer's refs
        // (a Keras 2 nested model's outer call is node 1: its node 0 is the inner graph).
        var maxNode: [String: Int] = [:]
        var tensorsRead: [String: Int] = [:]
        let allRefs = container.layers.flatMap { $0.calls.flatMap { $0 } } + container.outputs + container.inputs
        let entries = Dictionary(container.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for r in allRefs {
            // Indices come from the file: checked before any arithmetic or allocation uses them
            // (Keras itself fails on an index past the layer's calls or outputs).
            let calls = max(entries[r.layer]?.calls.count ?? 1, 1)
            guard r.node >= 0, r.node <= calls else {
                throw KerasConfigError(place: (path + [r.layer]).joined(separator: "/"),
                                       problem: "a reference to call (node) \(r.node) of the layer, which is called \(calls) time(s)")
            }
            guard r.tensor >= 0, r.tensor < KerasTensorRef.maximumTensorIndex else {
                throw KerasConfigError(place: (path + [r.layer]).joined(separator: "/"),
                                       problem: "a reference to output \(r.tensor) of the layer (bnconv reads outputs 0..<\(KerasTensorRef.maximumTensorIndex))")
            }
            maxNode[r.layer] = max(maxNode[r.layer] ?? 0, r.node)
            tensorsRead[r.layer] = max(tensorsRead[r.layer] ?? 0, r.tensor + 1)
        }
        func offset(_ layer: String) -> Int {
            let calls = max(entries[layer]?.calls.count ?? 1, 1)
            return max(0, (maxNode[layer] ?? 0) - (calls - 1))
        }
        var produced: [KerasTensorRef: String] = [:]   // (layer, call index, tensor) -> value
        func resolve(_ r: KerasTensorRef) -> String? {
            produced[KerasTensorRef(layer: r.layer, node: max(0, r.node - offset(r.layer)), tensor: r.tensor)]
        }
        // Layers in dependency order, the smallest list position first among the ready ones (the
        // list order itself when the config is topologically sorted, as Keras writes it): a
        // layer is ready once every layer its calls read has been built. Linear in layers and
        // references; the old pass-until-no-progress loop was quadratic on a reversed list.
        let layers = container.layers
        var waitingOn = [Int](repeating: 0, count: layers.count)
        var dependents: [String: [Int]] = [:]
        for (k, entry) in layers.enumerated() {
            let read = Set(entry.calls.flatMap { $0.map(\.layer) })
            waitingOn[k] = read.count
            for name in read { dependents[name, default: []].append(k) }
        }
        var ready = IndexHeap(capacity: layers.count)
        for k in layers.indices where waitingOn[k] == 0 { ready.insert(k) }
        var built = [Bool](repeating: false, count: layers.count)
        var released = Set<String>()
        func release(_ name: String) {
            guard released.insert(name).inserted else { return }
            for d in dependents[name] ?? [] {
                waitingOn[d] -= 1
                if waitingOn[d] == 0 { ready.insert(d) }
            }
        }
        while let k = ready.popMin() {
            let entry = layers[k]
            if entry.className == "InputLayer" {
                let value: String
                if let bound {
                    guard let position = container.inputs.firstIndex(where: { $0.layer == entry.name }), position < bound.count else {
                        throw KerasConfigError(place: (path + [entry.name]).joined(separator: "/"),
                                               problem: "the nested model's input is not bound by its call")
                    }
                    value = bound[position]
                    addRef(KerasValueRef(containerPath: path, ref: KerasTensorRef(layer: entry.name, node: 0, tensor: 0)), for: value)
                } else {
                    value = try addInput(entry, path: path)
                }
                produced[KerasTensorRef(layer: entry.name, node: 0, tensor: 0)] = value
                built[k] = true
                release(entry.name)
                continue
            }
            let resolvedCalls = entry.calls.map { $0.map(resolve) }
            // Every layer read is built: a reference still unresolved names a call or an
            // output the layer does not have, and the layer stays unbuilt (reported below).
            guard resolvedCalls.allSatisfy({ $0.allSatisfy { $0 != nil } }) else { continue }
            for (ci, args) in resolvedCalls.enumerated() {
                let argValues = args.map { $0! }
                let shapes = ci < entry.callShapes.count ? entry.callShapes[ci] : []
                let outs: [String]
                if let nested = entry.nested {
                    guard entry.calls.count == 1 else {
                        throw KerasConfigError(place: entry.name, problem: "a nested model called more than once is not supported")
                    }
                    for (v, s) in zip(argValues, shapes) { note(shape: s, of: v, layout: nil) }
                    outs = try build(nested, path: path + [entry.name], bound: argValues)
                } else {
                    outs = try addLayerCall(entry, call: ci, callCount: entry.calls.count, inputs: argValues, inputShapes: shapes,
                                            outputCount: tensorsRead[entry.name] ?? 1, path: path,
                                            ref: KerasTensorRef(layer: entry.name, node: ci + offset(entry.name), tensor: 0))
                }
                for (t, v) in outs.enumerated() {
                    produced[KerasTensorRef(layer: entry.name, node: ci, tensor: t)] = v
                    if entry.nested != nil {
                        // The container-level name of a nested model's output, for rewiring its consumers.
                        addRef(KerasValueRef(containerPath: path, ref: KerasTensorRef(layer: entry.name, node: ci + offset(entry.name), tensor: t)), for: v)
                    }
                }
            }
            if entry.calls.isEmpty, entry.nested == nil {
                throw KerasConfigError(place: (path + [entry.name]).joined(separator: "/"), problem: "the layer is never called (no inbound nodes)")
            }
            built[k] = true
            release(entry.name)
        }
        if let stuck = layers.indices.first(where: { !built[$0] }).map({ layers[$0] }) {
            throw KerasConfigError(place: (path + [stuck.name]).joined(separator: "/"),
                                   problem: "its inbound nodes name layers that are not in the model (or form a cycle)")
        }
        return try container.outputs.map { r in
            guard let v = resolve(r) else {
                throw KerasConfigError(place: path.joined(separator: "/"), problem: "output_layers names '\(r.layer)', which is not in the model")
            }
            return v
        }
    }

    // MARK: Layers

    private mutating func addLayerCall(_ entry: KerasLayerEntry, call: Int, callCount: Int, inputs: [String], inputShapes: [[Int?]?],
                                       outputCount: Int, path: [String], ref: KerasTensorRef) throws -> [String] {
        let name = nodeName(path, entry.name, call: call)
        let layerPath = (path + [entry.name]).joined(separator: "/")
        var op = KerasLayerMapper.op(className: entry.className, config: entry.config, dialect: dialect)
        let stored = variables[layerPath] ?? []
        usedVariables.insert(layerPath)
        var weights: [Weight] = []
        var storedNames: [String: String] = [:]
        for v in stored {
            let (role, layout) = KerasLayerMapper.role(className: entry.className, variable: v.variable)
            weights.append(Weight(role: role, tensor: v.tensor, layout: layout, storageKey: v.storageKey, isShared: callCount > 1))
            storedNames[role.rawValue] = v.storedName
        }
        if call < entry.callData.count,
           let mapped = KerasLayerMapper.callOp(className: entry.className, config: entry.config, call: entry.callData[call], layer: layerPath) {
            // A TFOpLambda: its op and constants come from the call's arguments.
            op = mapped.op
            weights += mapped.constants.map(\.weight)
        }
        op = try checked(op, weights: weights, entry: entry, place: layerPath)
        let layout: DataLayout? = entry.config["data_format"]?.stringValue == "channels_first" ? .channelsFirst
            : (entry.config["data_format"]?.stringValue == "channels_last" ? .channelsLast : nil)
        for (i, v) in inputs.enumerated() {
            note(shape: i < inputShapes.count ? inputShapes[i] : nil, of: v, layout: layout)
        }
        let outputs = (0..<max(outputCount, 1)).map { valueName(name, tensor: $0) }
        for (t, v) in outputs.enumerated() {
            define(v, shape: nil, ref: KerasValueRef(containerPath: path, ref: KerasTensorRef(layer: ref.layer, node: ref.node, tensor: t)))
            if let layout { values[v]?.layout = layout }
        }
        let record = KerasLayerRecord(layerName: entry.name, className: entry.className, containerPath: path, callIndex: call,
                                      storedNames: storedNames, storeGroup: storeGroups[layerPath])
        nodes.append(Node(name: name, op: op, inputs: inputs, outputs: outputs, weights: weights, source: record))
        return outputs
    }

    /// Checks the weights against the op (BN variables by center/scale, kernels present) and fills
    /// what only the weights say (a depthwise conv's output channels).
    private func checked(_ op: Op, weights: [Weight], entry: KerasLayerEntry, place: String) throws -> Op {
        func need(_ role: WeightRole) throws -> Weight {
            guard let w = weights.first(where: { $0.role == role }) else {
                throw KerasConfigError(place: place, problem: "the \(entry.className) layer has no stored '\(role)' variable (file lists \(weights.map(\.role.rawValue)))")
            }
            return w
        }
        switch op {
        case .batchNorm(let bn):
            _ = try need(.movingMean)
            _ = try need(.movingVariance)
            if bn.scale { _ = try need(.gamma) }
            if bn.center { _ = try need(.beta) }
            let channels = weights.map { $0.tensor.count }
            if Set(channels).count > 1 {
                throw KerasConfigError(place: place, problem: "the BatchNormalization variables have different sizes \(weights.map(\.tensor.shape))")
            }
            return op
        case .conv, .convTranspose, .dense:
            _ = try need(.kernel)
            return op
        case .depthwiseConv(var c):
            let kernel = try need(.kernel)
            if kernel.tensor.rank >= 2 {
                c.filters = kernel.tensor.shape[kernel.tensor.rank - 2] * kernel.tensor.shape[kernel.tensor.rank - 1]
                c.depthMultiplier = kernel.tensor.shape[kernel.tensor.rank - 1]
            }
            return .depthwiseConv(c)
        case .separableConv:
            _ = try need(.depthwiseKernel)
            _ = try need(.pointwiseKernel)
            return op
        default:
            return op
        }
    }
}
