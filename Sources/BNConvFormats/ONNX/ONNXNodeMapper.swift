import BNConvCore
import BNConvModel
import BNConvInterop
import BNConvOps

/// Maps ONNX NodeProtos onto ``Node``s with typed ``Op``s (or `.opaque` when bnconv does not model
/// the op or one of its attribute values), recording for each slot where it comes from.
///
/// Op facts from onnx/onnx `docs/Operators.md` (docs/formats.md, ONNX): Conv W is `(M, C/group, k...)`
/// (`oihw`), ConvTranspose W is `(C, M/group, k...)` (`iohw`), Gemm B is `(K, N)` or `(N, K)` with
/// `transB`, BatchNormalization's channel is axis 1 with `epsilon` default 1e-5. Activations of
/// rank 3 to 5 are NCHW-like (`channelsFirst`).
struct ONNXNodeMapper {
    /// Decoded initializers by name.
    let initializers: [String: Tensor]
    /// Every initializer's name, decoded or not (a string or uint64 constant is kept as written).
    let initializerNames: Set<String>
    /// How many node input slots read each initializer (more than one means shared).
    let initializerUses: [String: Int]
    /// Known value shapes (from graph inputs, outputs and value_info).
    let shapes: [String: [Int?]]
    /// Known value element types (from graph inputs, outputs and value_info).
    let dtypes: [String: DType]
    /// The file (for errors) and what it may allocate (tensor attributes are decoded here).
    let file: String
    let limits: ReadLimits
    /// The default-domain opset version.
    let opset: Int
    /// Values some node reads or the graph outputs (a BN's running statistics nobody reads are
    /// kept as fixed outputs, so the node has the single output the engine runs).
    let readValues: Set<String>

    /// What the mapper made of one NodeProto (or a MatMul + Add pair).
    struct Mapped {
        /// The typed op, or `.opaque`.
        var op: Op
        /// Activation inputs (initializers and empty slots excluded).
        var inputs: [String]
        /// Outputs (empty slots and hidden running statistics excluded).
        var outputs: [String]
        /// Initializers in weight slots, with their roles and layouts.
        var weights: [Weight]
        /// How every slot maps back, for the writer.
        var record: ONNXNodeRecord
    }

    /// The `.opaque` type name of a node: its op type, prefixed by a non-default domain.
    private static func opaqueType(_ node: ONNXProto.Node) -> String {
        node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
    }

    /// An empty record to fill.
    private static let emptyRecord = ONNXNodeRecord(parts: [])

    /// Maps `node` (graph index `index`); `add` is the Add (with its index) that follows a MatMul
    /// and adds an initializer bias, when the reader found one to merge.
    func map(_ node: ONNXProto.Node, index: Int, mergingAdd add: (node: ONNXProto.Node, index: Int)? = nil) -> Mapped {
        mapParts(node, index: index, mergingAdd: add)
    }

    /// Maps the node (and a merged Add).
    private func mapParts(_ node: ONNXProto.Node, index: Int, mergingAdd add: (node: ONNXProto.Node, index: Int)?) -> Mapped {
        var roles: [Int: (WeightRole, KernelLayout)] = [:]
        // A node reading integers or bools (indices, masks, shape arithmetic) runs in the op library,
        // which computes every dtype; so does one on float16/float64 values unless it holds
        // weights (a conv, dense or BatchNorm the fold rewrites; the engine computes those in
        // float32 whatever the stored type, as it always has).
        let readTypes = node.inputs.filter { !$0.isEmpty && initializers[$0] == nil }.map { dtypes[$0] ?? .float32 }
        let holdsWeights = ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization"].contains(node.opType)
        let typed = readTypes.contains { !$0.isFloatingPoint } || (!holdsWeights && readTypes.contains { $0 != .float32 })
        guard !typed, let op = self.op(for: node, roles: &roles) else { return mapTensorOp(node, index: index) }
        var mapped = Mapped(op: op, inputs: [], outputs: [], weights: [], record: Self.emptyRecord)
        var part = slots(for: node, index: index, roles: roles, into: &mapped)
        if !holdsWeights, case .fixed(let data)? = part.inputs.first, !data.isEmpty {
            // The data operand itself is a constant (an Identity or Relu of an initializer): the
            // typed layer would have no input to read; the op library takes it as a weight.
            return mapTensorOp(node, index: index)
        }
        if case .elementwise = op, part.inputs.contains(where: { if case .fixed(let s) = $0 { return !s.isEmpty } else { return false } }) {
            // An element-wise op with a constant operand: the op library broadcasts it.
            return mapTensorOp(node, index: index)
        }
        if let add, case .dense(var dense) = op, let biasSlot = add.node.inputs.firstIndex(where: { initializers[$0] != nil }) {
            // MatMul's output becomes internal; the Add's output is the dense node's output.
            let internalValue = node.outputs[0]
            mapped.outputs = []
            part.outputs = [.fixed(internalValue)]
            let biasName = add.node.inputs[biasSlot]
            let bias = initializers[biasName]!
            mapped.weights.append(Weight(role: .bias, tensor: bias, layout: .vector, storageKey: biasName,
                                         isShared: (initializerUses[biasName] ?? 0) > 1))
            var addPart = ONNXNodeRecord.Part(index: add.index, opType: add.node.opType, inputs: [], outputs: [])
            addPart.inputs = add.node.inputs.enumerated().map { $0.offset == biasSlot ? .weight(.bias) : .fixed($0.element) }
            addPart.outputs = add.node.outputs.map { name in
                mapped.outputs.append(name)
                return .value(mapped.outputs.count - 1)
            }
            dense.useBias = true
            mapped.op = .dense(dense)
            mapped.record.parts = [part, addPart]
            return mapped
        }
        mapped.record.parts = [part]
        return mapped
    }

    /// The node as an op-library op (``Op/tensor(_:)``) with its attributes, constant operands as
    /// weights (``TensorOp/operandRole(_:)``); `.opaque` when the library has no such op, the
    /// node is of another domain, or an attribute or constant is of a kind bnconv does not read.
    private func mapTensorOp(_ node: ONNXProto.Node, index: Int) -> Mapped {
        guard node.domain.isEmpty || node.domain == "ai.onnx", OpLibrary.supports(node.opType),
              var attributes = attributes(node) else { return mapOpaqueParts(node, index: index) }
        if node.opType == "Split", attributes["split"] == nil, attributes["num_outputs"] == nil,
           node.inputs.count < 2 || node.inputs[1].isEmpty {
            // Before opset 18 a Split without sizes makes as many equal parts as it has outputs.
            attributes["num_outputs"] = .int(node.outputs.count)
        }
        // Every decoded constant operand is a weight (a string or unsigned one keeps the node opaque).
        var roles: [Int: (WeightRole, KernelLayout)] = [:]
        for (position, name) in node.inputs.enumerated() where !name.isEmpty && initializerNames.contains(name) {
            guard initializers[name] != nil else { return mapOpaqueParts(node, index: index) }
            roles[position] = (TensorOp.operandRole(position), .vector)
        }
        // The op library writes its outputs in order: an output left out before a named one
        // cannot be skipped, so such a node keeps its opaque form.
        if let firstEmpty = node.outputs.firstIndex(of: ""), node.outputs[firstEmpty...].contains(where: { !$0.isEmpty }) {
            return mapOpaqueParts(node, index: index)
        }
        var mapped = Mapped(op: .opaque(type: node.opType), inputs: [], outputs: [], weights: [], record: Self.emptyRecord)
        let part = slots(for: node, index: index, roles: roles, into: &mapped)
        let arguments = part.inputs.map { slot -> TensorOpArgument in
            switch slot {
            case .value(let k): return .value(k)
            case .weight(let role): return .weight(role)
            case .fixed: return .absent  // an empty optional input
            }
        }
        mapped.op = .tensor(TensorOp(type: node.opType, opset: opset, attributes: attributes, arguments: arguments))
        mapped.record.parts = [part]
        return mapped
    }

    /// The node's attributes as ``OpAttribute``s, or nil when one is of a kind bnconv does not
    /// read (a graph, a sparse tensor).
    func attributes(_ node: ONNXProto.Node) -> [String: OpAttribute]? {
        var out: [String: OpAttribute] = [:]
        for a in node.attributes {
            // AttributeProto.AttributeType (onnx.proto): FLOAT 1, INT 2, STRING 3, TENSOR 4,
            // GRAPH 5, FLOATS 6, INTS 7, STRINGS 8.
            switch a.type {
            case 1: guard let f = a.f else { return nil }; out[a.name] = .float(Double(f))
            case 2: guard let i = a.i else { return nil }; out[a.name] = .int(Int(truncatingIfNeeded: i))
            case 3: out[a.name] = .string(String(decoding: a.s ?? [], as: UTF8.self))
            case 4:
                guard let t = a.t, ONNXTensorCodec.dtype(of: t.dataType) != nil,
                      let tensor = try? ONNXTensorCodec.decode(t, file: file, limits: limits) else { return nil }
                out[a.name] = .tensor(tensor)
            case 6: out[a.name] = .floats(a.floats.map(Double.init))
            case 7: out[a.name] = .ints(a.ints.map { Int(truncatingIfNeeded: $0) })
            default: return nil
            }
        }
        return out
    }

    /// The node as an `.opaque` op: every non-initializer input is a value, initializers are fixed.
    private func mapOpaqueParts(_ node: ONNXProto.Node, index: Int) -> Mapped {
        var mapped = Mapped(op: .opaque(type: Self.opaqueType(node)), inputs: [], outputs: [], weights: [],
                            record: Self.emptyRecord)
        mapped.record.parts = [slots(for: node, index: index, roles: [:], into: &mapped)]
        return mapped
    }

    /// Whether `matMul` can absorb `add` as its bias: B of the MatMul is a 2-D initializer and the
    /// Add's other operand is an initializer of N values broadcast along the last axis.
    func canMerge(matMul: ONNXProto.Node, add: ONNXProto.Node) -> Bool {
        guard matMul.opType == "MatMul", add.opType == "Add", add.inputs.count == 2, matMul.outputs.count == 1,
              matMul.inputs.count == 2, let b = initializers[matMul.inputs[1]], b.rank == 2,
              initializers[matMul.inputs[0]] == nil else { return false }
        let other = add.inputs[0] == matMul.outputs[0] ? add.inputs[1] : add.inputs[0]
        guard add.inputs.contains(matMul.outputs[0]), let bias = initializers[other],
              bias.dtype.isFloatingPoint, bias.count == b.shape[1], bias.shape.last == b.shape[1] else { return false }
        return true
    }

    // MARK: - Slots and weights

    private func slots(for node: ONNXProto.Node, index: Int, roles: [Int: (WeightRole, KernelLayout)],
                       into mapped: inout Mapped) -> ONNXNodeRecord.Part {
        var part = ONNXNodeRecord.Part(index: index, opType: node.opType, inputs: [], outputs: [])
        for (position, name) in node.inputs.enumerated() {
            if name.isEmpty {
                part.inputs.append(.fixed(name))
            } else if let (role, layout) = roles[position], let tensor = initializers[name] {
                mapped.weights.append(Weight(role: role, tensor: tensor, layout: layout, storageKey: name,
                                             isShared: (initializerUses[name] ?? 0) > 1))
                part.inputs.append(.weight(role))
            } else if initializerNames.contains(name) {
                part.inputs.append(.fixed(name))
            } else {
                mapped.inputs.append(name)
                part.inputs.append(.value(mapped.inputs.count - 1))
            }
        }
        let hidesUnreadStatistics: Bool
        if case .batchNorm = mapped.op { hidesUnreadStatistics = true } else { hidesUnreadStatistics = false }
        for (position, name) in node.outputs.enumerated() {
            if name.isEmpty || (hidesUnreadStatistics && position > 0 && !readValues.contains(name)) {
                part.outputs.append(.fixed(name))
            } else {
                mapped.outputs.append(name)
                part.outputs.append(.value(mapped.outputs.count - 1))
            }
        }
        return part
    }

    // MARK: - Ops

    /// The typed op for `node`, filling `roles` with the input positions that are weights; `nil`
    /// when the node must stay opaque.
    private func op(for node: ONNXProto.Node, roles: inout [Int: (WeightRole, KernelLayout)]) -> Op? {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { return nil }
        // Every modelled op reads a data input and writes a first output.
        guard let first = node.inputs.first, !first.isEmpty, let out = node.outputs.first, !out.isEmpty else { return nil }
        let a = ONNXAttributes(node: node)
        let outputCount = node.outputs.filter { !$0.isEmpty }.count
        switch node.opType {
        case "Conv", "ConvTranspose":
            return convolution(node, a, transposed: node.opType == "ConvTranspose", roles: &roles)
        case "Gemm":
            guard (a.float("alpha") ?? 1) == 1, (a.float("beta") ?? 1) == 1, (a.int("transA") ?? 0) == 0,
                  node.inputs.count >= 2, let b = initializers[node.inputs[1]], b.rank == 2 else { return nil }
            let transB = (a.int("transB") ?? 0) != 0
            let units = transB ? b.shape[0] : b.shape[1]
            roles[1] = (.kernel, transB ? .oi : .io)
            var useBias = false
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let c = initializers[node.inputs[2]], c.count == units, c.shape.last == units else { return nil }
                roles[2] = (.bias, .vector)
                useBias = true
            }
            return .dense(Dense(units: units, useBias: useBias))
        case "MatMul":
            // A 1-D A (a vector, its axis removed from the result) is no Dense input.
            guard node.inputs.count == 2, initializers[node.inputs[0]] == nil, (shapes[node.inputs[0]]?.count ?? 2) >= 2,
                  let b = initializers[node.inputs[1]], b.rank == 2 else { return nil }
            roles[1] = (.kernel, .io)
            return .dense(Dense(units: b.shape[1], useBias: false))
        case "BatchNormalization":
            return batchNorm(node, a, outputCount: outputCount, roles: &roles)
        case "Relu": return .activation(.relu())
        case "Sigmoid": return .activation(.sigmoid)
        case "Tanh": return .activation(.tanh)
        case "HardSwish": return .activation(.hardSwish)
        case "HardSigmoid":
            return .activation(.hardSigmoid(slope: a.float("alpha") ?? Double(Float(0.2)), offset: a.float("beta") ?? 0.5))
        case "LeakyRelu": return .activation(.leakyRelu(alpha: a.float("alpha") ?? Double(Float(0.01))))
        case "Elu": return .activation(.elu(alpha: a.float("alpha") ?? 1))
        case "Clip": return clip(node, a)
        case "Softmax":
            let axis = a.int("axis") ?? (opset >= 13 ? -1 : 1)
            if opset >= 13 { return .softmax(axis: axis) }
            // Before opset 13 Softmax flattens to 2-D at `axis`: the same only when axis is the last one.
            guard let rank = shapes[node.inputs[0]]?.count, Op.resolveAxis(axis, rank: rank) == rank - 1 else { return nil }
            return .softmax(axis: -1)
        case "Add": return .elementwise(.add)
        case "Sub": return .elementwise(.subtract)
        case "Mul": return .elementwise(.multiply)
        case "Max": return .elementwise(.maximum)
        case "Min": return .elementwise(.minimum)
        case "Mean": return .elementwise(.average)
        case "Gelu":
            guard opset >= 20 else { return nil }
            switch a.string("approximate") ?? "none" {
            case "none": return .activation(.gelu(approximate: false))
            case "tanh": return .activation(.gelu(approximate: true))
            default: return nil
            }
        case "Concat":
            guard let axis = a.int("axis") else { return nil }
            return .concat(axis: axis)
        case "MaxPool", "AveragePool":
            return pool(node, a, outputCount: outputCount)
        case "GlobalAveragePool":
            return .globalPool(GlobalPool(kind: .average, keepDims: true, layout: .channelsFirst))
        case "GlobalMaxPool":
            return .globalPool(GlobalPool(kind: .max, keepDims: true, layout: .channelsFirst))
        case "Flatten":
            return (a.int("axis") ?? 1) == 1 ? .flatten : nil
        case "Reshape":
            return reshape(node, a)
        case "Transpose":
            // A permutation keeping the batch first is a Keras-style Permute; any other (or an
            // invalid `perm`, which the op library's Transpose refuses) runs in the op library.
            guard let perm = a.ints("perm"), perm.count >= 2, perm.first == 0, Set(perm) == Set(0..<perm.count) else { return nil }
            return .permute(permutation: Array(perm.dropFirst()))
        case "Pad":
            return pad(node, a)
        case "Identity":
            return .identity
        case "Dropout":
            guard outputCount == 1, node.inputs.count < 3 || node.inputs[2].isEmpty else { return nil }
            return .identity
        default:
            return nil
        }
    }

    private func convolution(_ node: ONNXProto.Node, _ a: ONNXAttributes, transposed: Bool,
                             roles: inout [Int: (WeightRole, KernelLayout)]) -> Op? {
        guard node.inputs.count >= 2, let w = initializers[node.inputs[1]], w.rank >= 3, w.rank <= 5,
              initializers[node.inputs[0]] == nil else { return nil }
        let rank = w.rank - 2
        let group = a.int("group") ?? 1
        // The groups split the weight's input channels (axis 0 of a transposed kernel, axis 1
        // times the groups of a plain one): more groups than channels is no valid model, and a
        // group of 2^62 overflowed the filter count.
        guard group >= 1, group <= max(w.shape[0], w.shape[1]) else { return nil }
        let kernel = a.ints("kernel_shape") ?? Array(w.shape[2...])
        guard kernel == Array(w.shape[2...]) else { return nil }
        let strides = a.ints("strides") ?? Array(repeating: 1, count: rank)
        let dilations = a.ints("dilations") ?? Array(repeating: 1, count: rank)
        guard strides.count == rank, dilations.count == rank else { return nil }
        guard let padding = padding(a, rank: rank, allowSame: !transposed) else { return nil }
        let filters = transposed ? w.shape[1] * group : w.shape[0]
        roles[1] = (.kernel, transposed ? .iohw : .oihw)
        var useBias = false
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let b = initializers[node.inputs[2]], b.count == filters else { return nil }
            roles[2] = (.bias, .vector)
            useBias = true
        }
        var c = Convolution(rank: rank, filters: filters, kernelSize: kernel, strides: strides, dilations: dilations,
                            padding: padding, groups: group, useBias: useBias, layout: .channelsFirst)
        if transposed {
            guard !a.has("output_shape") else { return nil }
            if let outputPadding = a.ints("output_padding") {
                guard outputPadding.count == rank else { return nil }
                c.outputPadding = outputPadding
            }
            return .convTranspose(c)
        }
        return .conv(c)
    }

    /// Conv/pool border handling from `auto_pad` and `pads` (begin values first, then end values).
    private func padding(_ a: ONNXAttributes, rank: Int, allowSame: Bool) -> Padding? {
        switch a.string("auto_pad") ?? "NOTSET" {
        case "NOTSET", "":
            let pads = a.ints("pads") ?? Array(repeating: 0, count: 2 * rank)
            guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 }) else { return nil }
            if pads.allSatisfy({ $0 == 0 }) { return .valid }
            return .explicit((0..<rank).map { Pair(pads[$0], pads[$0 + rank]) })
        case "VALID": return .valid
        case "SAME_UPPER": return allowSame ? .same : nil
        default: return nil
        }
    }

    private func batchNorm(_ node: ONNXProto.Node, _ a: ONNXAttributes, outputCount: Int,
                           roles: inout [Int: (WeightRole, KernelLayout)]) -> Op? {
        // The typed BatchNorm holds its four parameters as stored weights and writes one output;
        // parameters given at run time, or the training outputs, go to the op library.
        guard node.inputs.count == 5, (a.int("spatial") ?? 1) == 1,
              node.inputs[1...].allSatisfy({ initializers[$0] != nil }) else { return nil }
        let order: [WeightRole] = [.gamma, .beta, .movingMean, .movingVariance]
        for (offset, role) in order.enumerated() {
            roles[offset + 1] = (role, .vector)
        }
        // Training: training_mode = 1 (opset 14+), is_test = 0 (opsets 1 and 6), or the optional
        // statistics outputs requested (opsets 7 and 9 produce them only in training).
        let training = (a.int("training_mode") ?? 0) != 0 || (a.int("is_test").map { $0 == 0 } ?? false) || outputCount > 1
        return .batchNorm(BatchNorm(epsilon: a.float("epsilon") ?? Double(Float(1e-5)), momentum: a.float("momentum") ?? Double(Float(0.9)),
                                    axis: 1, center: true, scale: true, training: training))
    }

    /// The initializer `name` read for its values (a Clip bound, a Reshape shape, Pad amounts):
    /// in memory, a deferred one loaded (nil when it cannot be read).
    private func value(_ name: String) -> Tensor? {
        guard let t = initializers[name] else { return nil }
        return t.isDeferred ? try? t.materialized() : t
    }

    private func clip(_ node: ONNXProto.Node, _ a: ONNXAttributes) -> Op? {
        var low: Double?
        var high: Double?
        if opset < 11 {
            low = a.float("min")
            high = a.float("max")
        } else {
            func scalar(_ position: Int) -> Double?? {
                guard node.inputs.count > position, !node.inputs[position].isEmpty else { return .some(nil) }
                guard let t = value(node.inputs[position]), t.count == 1 else { return nil }
                return .some(t.doubles()[0])
            }
            guard let l = scalar(1), let h = scalar(2) else { return nil }
            low = l
            high = h
        }
        switch (low, high) {
        case (0?, 6?): return .activation(.relu6)
        case (0?, nil): return .activation(.relu())
        case (0?, let m?): return .activation(.relu(maxValue: m))
        default: return nil
        }
    }

    private func pool(_ node: ONNXProto.Node, _ a: ONNXAttributes, outputCount: Int) -> Op? {
        guard outputCount == 1, let kernel = a.ints("kernel_shape"), (a.int("ceil_mode") ?? 0) == 0 else { return nil }
        let rank = kernel.count
        guard (a.ints("dilations") ?? []).allSatisfy({ $0 == 1 }) else { return nil }
        let strides = a.ints("strides") ?? Array(repeating: 1, count: rank)
        guard strides.count == rank, let padding = padding(a, rank: rank, allowSame: true) else { return nil }
        let kind: Pool.Kind = node.opType == "MaxPool" ? .max : .average
        if kind == .average, (a.int("count_include_pad") ?? 0) != 0, padding != .valid {
            return nil  // padded cells counted in the average: not the TensorFlow behaviour the engine runs
        }
        return .pool(Pool(kind: kind, poolSize: kernel, strides: strides, padding: padding, layout: .channelsFirst))
    }

    private func reshape(_ node: ONNXProto.Node, _ a: ONNXAttributes) -> Op? {
        var target: [Int]
        if opset < 5 {
            guard let s = a.ints("shape") else { return nil }
            target = s
        } else {
            guard node.inputs.count == 2, let s = value(node.inputs[1]), s.rank == 1 else { return nil }
            target = s.integers().map { Int($0) }
        }
        guard (a.int("allowzero") ?? 0) == 0, let first = target.first, first == 0 || first == -1 else { return nil }
        var rest = Array(target.dropFirst())
        if first == -1 && rest.contains(-1) { return nil }
        // 0 copies the input's dimension: resolve it from the known input shape.
        for (i, d) in rest.enumerated() where d == 0 {
            guard let inShape = shapes[node.inputs[0]], i + 1 < inShape.count, let size = inShape[i + 1] else { return nil }
            rest[i] = size
        }
        return .reshape(targetShape: rest)
    }

    private func pad(_ node: ONNXProto.Node, _ a: ONNXAttributes) -> Op? {
        guard (a.string("mode") ?? "constant") == "constant" else { return nil }
        var pads: [Int]
        if opset < 11 {
            guard let p = a.ints("pads"), (a.float("value") ?? 0) == 0 else { return nil }
            pads = p
        } else {
            guard node.inputs.count >= 2, let p = value(node.inputs[1]) else { return nil }
            pads = p.integers().map { Int($0) }
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let v = value(node.inputs[2]), v.doubles().allSatisfy({ $0 == 0 }) else { return nil }
            }
            if node.inputs.count > 3, !node.inputs[3].isEmpty { return nil }
        }
        let rank = pads.count / 2
        guard pads.count == 2 * rank, rank >= 3, pads.allSatisfy({ $0 >= 0 }),
              pads[0] == 0, pads[1] == 0, pads[rank] == 0, pads[rank + 1] == 0 else { return nil }
        return .pad(padding: (2..<rank).map { Pair(pads[$0], pads[$0 + rank]) }, layout: .channelsFirst)
    }
}
