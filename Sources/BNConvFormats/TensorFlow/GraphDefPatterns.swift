import BNConvCore
import BNConvModel
import BNConvInterop

/// Recognises the TensorFlow node patterns bnconv models (Conv2D + BiasAdd, the Conv1D
/// ExpandDims/Conv2D/Squeeze sandwich, FusedBatchNorm*, the decomposed BatchNorm chain, ...) and
/// turns each into a ``GraphDefGroup``. A node no pattern claims becomes its own group (an
/// `opaque` one if its op is unknown).
struct GraphDefPatterns {
    let graph: GraphDefGraph
    /// Nodes already claimed by a group (as member or auxiliary).
    private(set) var claimed = Set<Int>()

    init(graph: GraphDefGraph) { self.graph = graph }

    private var file: String { graph.file }
    private func name(_ i: Int) -> String { graph.nodes[i].name }
    private func op(_ i: Int) -> String { graph.nodes[i].op }
    private func slot(_ i: Int, _ index: Int) -> GraphDefNodeRecord.InputSlot { .init(nodeDef: name(i), index: index) }
    private func input(_ i: Int, _ k: Int) -> String? {
        let inputs = graph.dataInputs(i)
        return k < inputs.count ? inputs[k].value : nil
    }

    private func string(_ i: Int, _ key: String, _ fallback: String) -> String { graph.attribute(i, key)?.string ?? fallback }
    private func bool(_ i: Int, _ key: String, _ fallback: Bool) -> Bool {
        if case .bool(let b)? = graph.attribute(i, key) { return b }
        return fallback
    }
    private func float(_ i: Int, _ key: String, _ fallback: Double) -> Double {
        if case .float(let f)? = graph.attribute(i, key) { return Double(f) }
        return fallback
    }
    /// Node `i`'s `T` (float when it has none).
    private func dataType(_ i: Int) -> Int32 {
        if case .type(let t)? = graph.attribute(i, "T") { return t }
        return TensorFlowDataType.float
    }
    private func ints(_ i: Int, _ key: String) -> [Int]? {
        if case .list(let l)? = graph.attribute(i, key) { return l.ints.map { Int($0) } }
        return nil
    }

    /// Claims `nodes` if none is claimed yet.
    private mutating func claim(_ nodes: [Int]) -> Bool {
        guard nodes.allSatisfy({ !claimed.contains($0) }) else { return false }
        claimed.formUnion(nodes)
        return true
    }

    // MARK: Anchored patterns

    /// Tries every multi-node pattern anchored at node `i`; returns the group if one matched.
    mutating func matchAnchor(_ i: Int) throws -> GraphDefGroup? {
        guard !claimed.contains(i) else { return nil }
        switch op(i) {
        case "Rsqrt": return try matchDecomposedBatchNorm(rsqrt: i)
        case "Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul": return try matchLinear(i)
        case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3": return try matchFusedBatchNorm(i)
        case "BatchNormWithGlobalNormalization": return try matchGlobalNormalization(i)
        case "Reshape": return try matchBatchPreservingReshape(i)
        default: return nil
        }
    }

    /// Keras Flatten / Reshape with an unknown batch: `Reshape(x, Pack(Shape(x)[0], c1, c2, ...))`.
    private mutating func matchBatchPreservingReshape(_ i: Int) throws -> GraphDefGroup? {
        let inputs = graph.dataInputs(i)
        guard inputs.count == 2, !graph.isConstant(inputs[0].value),
              let found = try batchPreservingShape(inputs[1].value, of: inputs[0].value, reader: i),
              claim([i]) else { return nil }
        claimed.formUnion(found.auxiliary)
        return GraphDefGroup(name: name(i), op: .reshape(targetShape: found.target), members: [i],
                             auxiliary: found.auxiliary, inputs: [(inputs[0].value, slot(i, inputs[0].slot))], output: i)
    }

    /// Conv2D / DepthwiseConv2dNative / Conv2DBackpropInput / MatMul with a constant filter,
    /// the Conv1D sandwich, and a following BiasAdd with a constant bias.
    private mutating func matchLinear(_ i: Int) throws -> GraphDefGroup? {
        let opName = op(i)
        let dataIndex = opName == "Conv2DBackpropInput" ? 2 : 0
        let filterIndex = 1
        guard let x = input(i, dataIndex), let w = input(i, filterIndex),
              let kernelPath = graph.constant(behind: w), !graph.readsSecondaryOutputs(i) else { return nil }
        if opName == "MatMul", bool(i, "transpose_a", false) { return nil }
        if graph.isConstant(x) { return nil }
        // Only the kernel's shape matters here: read from the Const's stored dims, not decoded
        // (the reader decodes each weight once, when it builds the node).
        let kernelShape: [Int]
        if let dims = graph.storedDims(ofConstant: kernelPath.constant), dims.allSatisfy({ $0 >= 0 }) {
            kernelShape = dims
        } else {
            kernelShape = try graph.tensor(ofConstant: kernelPath.constant).shape
        }
        let format = string(i, "data_format", TensorFlowOpDefaults.dataFormat)
        let layout: DataLayout = format.hasPrefix("NC") ? .channelsFirst : .channelsLast
        var members = [i]
        var auxiliary = kernelPath.nodes
        var dataInput = x
        var dataSlot = slot(i, graph.dataInputs(i)[dataIndex].slot)
        var outputNode = i
        var rank = 2

        // Conv1D: ExpandDims(x, 1 or -3) -> Conv2D -> Squeeze([1] or [-3]); in NCHW (what
        // `convert --layout nchw` writes) the dummy height goes at 2 or -2.
        let heightAxes = layout == .channelsLast ? [1, -3] : [2, -2]
        if opName == "Conv2D", let e = graph.producer(of: x), op(e) == "ExpandDims", !claimed.contains(e),
           graph.soleReader(of: x) == i, let dimValue = input(e, 1), let dimPath = graph.constant(behind: dimValue),
           let dim = try graph.tensor(ofConstant: dimPath.constant).integers().first, heightAxes.contains(Int(dim)),
           let s = graph.soleReader(of: name(i)), op(s) == "Squeeze", !claimed.contains(s),
           let squeeze = ints(s, "squeeze_dims"), squeeze.count == 1, heightAxes.contains(squeeze[0]), kernelShape.count == 3,
           let inner = input(e, 0) {
            members = [e, i, s]
            auxiliary += dimPath.nodes
            dataInput = inner
            dataSlot = slot(e, graph.dataInputs(e)[0].slot)
            outputNode = s
            rank = 1
        }
        // A BiasAdd right after, with a constant bias.
        var weights = [GraphDefGroup.WeightSource(role: .kernel, path: kernelPath, layout: .vector, flatten: false)]
        var hasBias = false
        if let b = graph.soleReader(of: name(outputNode)), op(b) == "BiasAdd", !claimed.contains(b),
           input(b, 0) == name(outputNode), let biasValue = input(b, 1), let biasPath = graph.constant(behind: biasValue) {
            members.append(b)
            auxiliary += biasPath.nodes
            weights.append(.init(role: .bias, path: biasPath, layout: .vector, flatten: true))
            outputNode = b
            hasBias = true
        }

        let strides = ints(i, "strides") ?? [1, 1, 1, 1]
        let dilations = ints(i, "dilations") ?? TensorFlowOpDefaults.dilations.map { Int($0) }
        // Windows must be positive (a corrupt graph is kept opaque rather than trusted).
        guard (strides + dilations).allSatisfy({ $0 >= 1 }), kernelShape.allSatisfy({ $0 >= 1 }) else { return nil }
        let spatial: [Int]
        if rank == 1 {
            spatial = layout == .channelsLast ? [2] : [3]
        } else {
            spatial = layout == .channelsLast ? [1, 2] : [2, 3]
        }
        func pick(_ list: [Int]) -> [Int] { spatial.map { $0 < list.count ? list[$0] : 1 } }
        let padding: Padding
        switch string(i, "padding", "VALID") {
        case "SAME": padding = .same
        case "EXPLICIT":
            let p = ints(i, "explicit_paddings") ?? []
            padding = .explicit(spatial.map { 2 * $0 + 1 < p.count ? Pair(p[2 * $0], p[2 * $0 + 1]) : Pair(0, 0) })
        default: padding = .valid
        }
        let shape = kernelShape
        let op: Op
        switch opName {
        case "MatMul":
            guard shape.count == 2 else { return nil }
            let transposed = bool(i, "transpose_b", TensorFlowOpDefaults.transpose)
            weights[0].layout = transposed ? .oi : .io
            op = .dense(Dense(units: transposed ? shape[0] : shape[1], useBias: hasBias))
        case "DepthwiseConv2dNative":
            guard shape.count == 4 else { return nil }
            weights[0].layout = .hwcm
            op = .depthwiseConv(Convolution(rank: 2, filters: shape[2] * shape[3], kernelSize: Array(shape[0..<2]),
                                            strides: pick(strides), dilations: pick(dilations), padding: padding,
                                            depthMultiplier: shape[3], useBias: hasBias, layout: layout))
        case "Conv2DBackpropInput":
            guard shape.count == 4 else { return nil }
            weights[0].layout = .hwoi
            op = .convTranspose(Convolution(rank: 2, filters: shape[2], kernelSize: Array(shape[0..<2]),
                                            strides: pick(strides), dilations: pick(dilations), padding: padding,
                                            useBias: hasBias, layout: layout))
            // The output-size operand (Shape/StridedSlice/Pack of the input, or a Const) goes with the node.
            if let sizes = input(i, 0), let closure = exclusiveClosure(of: sizes, reader: i, stop: x) {
                auxiliary += closure
            } else {
                return nil
            }
        default:
            guard shape.count == rank + 2 else { return nil }
            weights[0].layout = .hwio
            op = .conv(Convolution(rank: rank, filters: shape[rank + 1], kernelSize: Array(shape[0..<rank]),
                                   strides: pick(strides), dilations: pick(dilations), padding: padding,
                                   useBias: hasBias, layout: layout))
        }
        guard claim(members) else { return nil }
        claimed.formUnion(auxiliary.filter { !graph.isConstant(name($0)) })
        return GraphDefGroup(name: name(i), op: op, members: members, auxiliary: auxiliary,
                             inputs: [(dataInput, dataSlot)], output: outputNode, weights: weights,
                             dataFormat: format)
    }

    /// The nodes computing `value` that feed nothing but `reader` (walking up until a value is also
    /// read elsewhere, or is `stop`, the reader's data input); nil if there are none or the walk
    /// would take in a Placeholder.
    private func exclusiveClosure(of value: String, reader: Int, stop: String) -> [Int]? {
        var inside = Set([reader])
        var result = [Int]()
        var stack = [value]
        while let v = stack.popLast() {
            guard v != stop, let p = graph.producer(of: v), !inside.contains(p) else { continue }
            let readers = Set(graph.readers(of: v))
            // Shared with the outside world (e.g. the conv's own data input): stop here.
            if !readers.isSubset(of: inside) { continue }
            if op(p) == "Placeholder" { return nil }
            inside.insert(p)
            result.append(p)
            stack.append(contentsOf: graph.dataInputs(p).map(\.value))
        }
        return result.isEmpty ? nil : result
    }

    /// FusedBatchNorm / V2 / V3 with constant scale, offset, mean and variance. Missing attributes
    /// take their op-def defaults (epsilon 1e-4, is_training true, data_format NHWC).
    private mutating func matchFusedBatchNorm(_ i: Int) throws -> GraphDefGroup? {
        guard let x = input(i, 0), !graph.readsSecondaryOutputs(i) else { return nil }
        var weights = [GraphDefGroup.WeightSource]()
        for (k, role) in [(1, WeightRole.gamma), (2, .beta), (3, .movingMean), (4, .movingVariance)] {
            guard let v = input(i, k), let path = graph.constant(behind: v) else { return nil }
            weights.append(.init(role: role, path: path, layout: .vector, flatten: true))
        }
        let format = string(i, "data_format", TensorFlowOpDefaults.dataFormat)
        let bn = BatchNorm(epsilon: float(i, "epsilon", TensorFlowOpDefaults.batchNormEpsilon),
                           axis: format.hasPrefix("NC") ? 1 : -1,
                           training: bool(i, "is_training", TensorFlowOpDefaults.batchNormIsTraining),
                           trainable: false)
        guard claim([i]) else { return nil }
        return GraphDefGroup(name: name(i), op: .batchNorm(bn), members: [i],
                             auxiliary: weights.flatMap(\.path.nodes), inputs: [(x, slot(i, 0))], output: i,
                             weights: weights, dataFormat: format)
    }

    /// BatchNormWithGlobalNormalization (removed from TensorFlow at GraphDef version 9, still in old
    /// frozen graphs): inputs t, m, v, beta, gamma; `variance_epsilon`; `scale_after_normalization`
    /// false means gamma is not applied (tensorflow/core/ops/nn_ops.cc). Always the last axis.
    private mutating func matchGlobalNormalization(_ i: Int) throws -> GraphDefGroup? {
        guard let x = input(i, 0) else { return nil }
        let scaled = bool(i, "scale_after_normalization", true)
        var weights = [GraphDefGroup.WeightSource]()
        var auxiliary: [Int] = []
        for (k, role) in [(1, WeightRole.movingMean), (2, .movingVariance), (3, .beta), (4, .gamma)] {
            guard let v = input(i, k), let path = graph.constant(behind: v) else { return nil }
            if role == .gamma && !scaled {
                auxiliary += path.nodes
            } else {
                weights.append(.init(role: role, path: path, layout: .vector, flatten: true))
            }
        }
        let bn = BatchNorm(epsilon: float(i, "variance_epsilon", 0), axis: -1, scale: scaled, trainable: false)
        guard claim([i]) else { return nil }
        return GraphDefGroup(name: name(i), op: .batchNorm(bn), members: [i],
                             auxiliary: weights.flatMap(\.path.nodes) + auxiliary, inputs: [(x, slot(i, 0))], output: i,
                             weights: weights, dataFormat: "NHWC")
    }

    /// The decomposed BatchNorm that tf_keras (2-D/3-D input) and Keras 3 emit
    /// (`tf.nn.batch_normalization`, docs/formats.md, TensorFlow GraphDef):
    /// `s = Rsqrt(AddV2(var, eps)) [* gamma]`; `y = x * s + (beta - mean * s)`
    /// (`-(mean * s)` via Neg without beta). The epsilon is the scalar constant added to the variance.
    private mutating func matchDecomposedBatchNorm(rsqrt r: Int) throws -> GraphDefGroup? {
        let adds: Set<String> = ["AddV2", "Add"]
        guard let addValue = input(r, 0), let a0 = graph.producer(of: addValue), adds.contains(op(a0)),
              graph.soleReader(of: addValue) == r else { return nil }
        let a0In = graph.dataInputs(a0)
        // One operand is the variance (a vector), the other epsilon (one value; the second
        // operand when both hold one value, as tf.nn.batch_normalization writes it).
        guard a0In.count == 2, let p0 = graph.constant(behind: a0In[0].value),
              let p1 = graph.constant(behind: a0In[1].value) else { return nil }
        let t0 = try graph.tensor(ofConstant: p0.constant), t1 = try graph.tensor(ofConstant: p1.constant)
        let epsilonFirst = t0.count == 1 && t1.count != 1
        let (variance, epsilonPath, epsilonTensor) = epsilonFirst ? (p1, p0, t0) : (p0, p1, t1)
        guard epsilonTensor.count == 1, epsilonTensor.dtype.isFloatingPoint else { return nil }
        let epsilon = (path: epsilonPath, value: epsilonTensor.doubles()[0])
        var members = [a0, r]
        var weights = [GraphDefGroup.WeightSource(role: .movingVariance, path: variance, layout: .vector, flatten: true)]
        var auxiliary = variance.nodes + epsilon.path.nodes
        var s = r
        var hasGamma = false
        if let m = graph.soleReader(of: name(r)), op(m) == "Mul", let other = otherOperand(m, than: name(r)),
           let gamma = graph.constant(behind: other) {
            members.append(m)
            weights.append(.init(role: .gamma, path: gamma, layout: .vector, flatten: true))
            auxiliary += gamma.nodes
            s = m
            hasGamma = true
        }
        let readers = graph.consumers[name(s)] ?? []
        guard readers.count == 2, readers.allSatisfy({ op($0.node) == "Mul" }) else { return nil }
        var mulX: (node: Int, x: String, slot: Int)?
        var mulMean: (node: Int, mean: GraphDefGraph.ConstantPath)?
        for reader in readers {
            guard let other = otherOperand(reader.node, than: name(s)) else { return nil }
            if let mean = graph.constant(behind: other) {
                mulMean = (reader.node, mean)
            } else {
                mulX = (reader.node, other, graph.dataInputs(reader.node).first { $0.value == other }!.slot)
            }
        }
        guard let mulX, let mulMean else { return nil }
        weights.append(.init(role: .movingMean, path: mulMean.mean, layout: .vector, flatten: true))
        auxiliary += mulMean.mean.nodes
        guard let shiftNode = graph.soleReader(of: name(mulMean.node)) else { return nil }
        var hasBeta = false
        switch op(shiftNode) {
        case "Sub":
            guard input(shiftNode, 1) == name(mulMean.node), let betaValue = input(shiftNode, 0),
                  let beta = graph.constant(behind: betaValue) else { return nil }
            weights.append(.init(role: .beta, path: beta, layout: .vector, flatten: true))
            auxiliary += beta.nodes
            hasBeta = true
        case "Neg": break
        default: return nil
        }
        guard let out = graph.soleReader(of: name(mulX.node)), adds.contains(op(out)),
              graph.soleReader(of: name(shiftNode)) == out,
              Set(graph.dataInputs(out).map(\.value)) == [name(mulX.node), name(shiftNode)] else { return nil }
        members += [mulX.node, mulMean.node, shiftNode, out]
        // The channel axis: the last one unless the statistics were stored with a broadcast shape.
        var axis = -1
        if let dims = graph.storedDims(ofConstant: variance.constant), dims.count > 1,
           let c = dims.lastIndex(where: { $0 != 1 }) {
            axis = c - dims.count
        }
        let bn = BatchNorm(epsilon: epsilon.value, axis: axis, center: hasBeta, scale: hasGamma,
                           training: false, trainable: false)
        guard claim(members) else { return nil }
        let scope = name(r).hasSuffix("/Rsqrt") ? String(name(r).dropLast("/Rsqrt".count)) : name(r)
        let groupName = graph.index[scope] == nil ? scope : name(r)
        return GraphDefGroup(name: groupName, op: .batchNorm(bn), members: members.sorted { graph.order.firstIndex(of: $0)! < graph.order.firstIndex(of: $1)! },
                             auxiliary: auxiliary, inputs: [(mulX.x, slot(mulX.node, mulX.slot))], output: out,
                             weights: weights)
    }

    /// `x * c`, `x + c`, `x - c`, `c - x`, `x / c` with a constant `c` that is a scalar or a 1-D
    /// vector (broadcast along the last axis; what tf_keras Rescaling and similar preprocessing
    /// freeze to), as a `rescaling` op `y = x * scale + offset`.
    private func rescaling(_ i: Int, _ inputs: [(value: String, slot: Int)])
        throws -> (op: Op, input: (value: String, slot: Int), auxiliary: [Int])? {
        let paths = inputs.map { graph.constant(behind: $0.value) }
        guard let k = paths.firstIndex(where: { $0 != nil }), paths[1 - k] == nil, let path = paths[k] else { return nil }
        let c = try graph.tensor(ofConstant: path.constant)
        // A scalar or a vector only: a higher-rank constant could broadcast the result to more axes.
        guard c.dtype.isFloatingPoint, c.count >= 1, c.rank <= 1 else { return nil }
        let v = c.doubles()
        let constantFirst = k == 0
        let result: Op
        switch op(i) {
        case "Mul": result = .rescaling(scale: v, offset: [0])
        case "AddV2", "Add": result = .rescaling(scale: [1], offset: v)
        case "Sub": result = constantFirst ? .rescaling(scale: [-1], offset: v) : .rescaling(scale: [1], offset: v.map { -$0 })
        case "RealDiv":
            guard !constantFirst, v.allSatisfy({ $0 != 0 }) else { return nil }
            result = .rescaling(scale: v.map { 1 / $0 }, offset: [0])
        default: return nil
        }
        return (result, inputs[1 - k], path.nodes)
    }

    /// The target dims after the batch when `shape` is `Pack(StridedSlice(Shape(x), [0], [1], [1],
    /// shrink_axis_mask=1), c1, c2, ...)` with constant `c`s (tf_keras and Keras 3 Flatten/Reshape
    /// keep an unknown batch this way), with the nodes computing it; nil for any other shape.
    private func batchPreservingShape(_ shape: String, of x: String, reader: Int) throws -> (target: [Int], auxiliary: [Int])? {
        guard let pack = graph.producer(of: shape), op(pack) == "Pack", graph.soleReader(of: shape) == reader,
              !claimed.contains(pack),
              case .int(let axis)? = graph.attribute(pack, "axis") ?? .int(0), axis == 0 else { return nil }
        let parts = graph.dataInputs(pack)
        guard parts.count >= 2, let slice = graph.producer(of: parts[0].value), op(slice) == "StridedSlice",
              graph.soleReader(of: parts[0].value) == pack,
              case .int(let shrink)? = graph.attribute(slice, "shrink_axis_mask"), shrink == 1 else { return nil }
        let sliceIn = graph.dataInputs(slice)
        guard sliceIn.count == 4, let shapeOp = graph.producer(of: sliceIn[0].value), op(shapeOp) == "Shape",
              graph.soleReader(of: sliceIn[0].value) == slice, input(shapeOp, 0) == x else { return nil }
        var auxiliary = [pack, slice, shapeOp]
        for (k, want) in [(1, Int64(0)), (2, 1), (3, 1)] {
            guard let path = graph.constant(behind: sliceIn[k].value),
                  try graph.tensor(ofConstant: path.constant).integers() == [want] else { return nil }
            auxiliary += path.nodes
        }
        var target = [Int]()
        for part in parts.dropFirst() {
            guard let path = graph.constant(behind: part.value) else { return nil }
            let values = try graph.tensor(ofConstant: path.constant).integers()
            guard values.count == 1, values[0] >= -1, values[0] <= Int64(Int32.max) else { return nil }
            target.append(Int(values[0]))
            auxiliary += path.nodes
        }
        return (target, auxiliary)
    }

    /// The operand of binary node `i` that is not `value`.
    private func otherOperand(_ i: Int, than value: String) -> String? {
        let inputs = graph.dataInputs(i).map(\.value)
        guard inputs.count == 2 else { return nil }
        if inputs[0] == value { return inputs[1] }
        if inputs[1] == value { return inputs[0] }
        return nil
    }

    // MARK: Single nodes

    /// The op passing node `i`'s first data input on: the typed identity for float32 (`T`, or
    /// `dtype` for a PlaceholderWithDefault), the op library's Identity for any other type.
    private func passOn(_ i: Int) -> Op {
        let type: Int32
        if case .type(let t)? = graph.attribute(i, "T") ?? graph.attribute(i, "dtype") { type = t } else { type = TensorFlowDataType.float }
        return type == TensorFlowDataType.float ? .identity : .tensor(TensorOp(type: "Identity", opset: 14, arguments: [.value(0)]))
    }

    /// Switch outputs made into nodes so far (``switchOutput(_:)``).
    private var switchOutputsMade = Set<String>()

    /// The output of Switch node `i` that the node named as the Switch writes: the taken one when
    /// the predicate is constant, else the first one read. Each other output read becomes a node
    /// of its own (``switchOutput(_:)``): a model node writes one value unless the op library runs it.
    private func primaryOutput(ofSwitch i: Int) -> Int {
        let name = graph.nodes[i].name
        if let s = graph.conditions.switches[name] { return s.live }
        return graph.consumers[name] == nil && graph.consumers[GraphDefGraph.valueName(name, 1)] != nil ? 1 : 0
    }

    /// The node named `name` writing output `k` of Switch node `i` (data and predicate inputs).
    /// A constant predicate: the Switch's data passed on. The untaken output is passed on as it
    /// would be if its branch were taken; no model output depends on it, so it never runs, and the
    /// nodes it feeds (the untaken branch) are read as they are, so that `inspect` shows them and
    /// the fold planner keeps their BatchNorms. A computed predicate: left as it is, the op's name
    /// saying why the engine cannot run it.
    private func switchGroup(_ i: Int, output k: Int, name: String) -> GraphDefGroup {
        let n = graph.nodes[i]
        let inputs = graph.dataInputs(i)
        var group = GraphDefGroup(name: name, op: .opaque(type: n.op), members: name == n.name ? [i] : [], output: i)
        group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }
        group.outputValues = [GraphDefGraph.valueName(n.name, k)]
        if graph.conditions.switches[n.name] != nil {
            group.op = passOn(i)
            group.inputs = [(inputs[0].value, slot(i, inputs[0].slot))]
        } else if let predicate = TensorReference(inputs[1].value),
                  ConstantConditions.constantBool(predicate, through: graph.conditions.source(of:), node: { graph.index[$0].map { graph.nodes[$0] } }) == nil {
            group.op = .opaque(type: "Switch (its predicate \(predicate.node) is not constant)")
        }
        return group
    }

    /// Whether `value` is output 0 or 1 of a Switch with two data inputs (``switchOutput(_:)`` makes its node).
    func isSwitchOutput(_ value: String) -> Bool {
        let r = GraphDefGraph.parse(value)
        guard !r.isControl, r.output <= 1, let i = graph.index[r.node] else { return false }
        return (op(i) == "Switch" || op(i) == "RefSwitch") && graph.dataInputs(i).count == 2
    }

    /// The node writing `value` when it is an output of a Switch (two data inputs) that no node
    /// writes yet: named as the Switch for its ``primaryOutput(ofSwitch:)``, else by the tensor
    /// (`cond/Switch:1`), computing no NodeDef of its own.
    mutating func switchOutput(_ value: String) -> GraphDefGroup? {
        guard isSwitchOutput(value), !switchOutputsMade.contains(value) else { return nil }
        let r = GraphDefGraph.parse(value)
        let i = graph.index[r.node]!
        switchOutputsMade.insert(value)
        claimed.insert(i)
        return switchGroup(i, output: r.output, name: r.output == primaryOutput(ofSwitch: i) ? r.node : "\(r.node):\(r.output)")
    }

    /// The group for an unclaimed node `i` on its own: a known op, or `opaque`.
    mutating func single(_ i: Int) throws -> GraphDefGroup {
        let n = graph.nodes[i]
        let inputs = graph.dataInputs(i)
        claimed.insert(i)
        var group = GraphDefGroup(name: n.name, op: .opaque(type: n.op), members: [i], output: i)
        group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }
        let format = string(i, "data_format", TensorFlowOpDefaults.dataFormat)
        let layout: DataLayout = format.hasPrefix("NC") ? .channelsFirst : .channelsLast
        group.dataFormat = format

        /// Keeps only the first `k` inputs as node inputs; the rest are constant operands.
        func constantOperands(from k: Int) -> [Tensor]? {
            var tensors = [Tensor]()
            for operand in inputs.dropFirst(k) {
                guard let path = graph.constant(behind: operand.value),
                      let t = try? graph.tensor(ofConstant: path.constant) else { return nil }
                group.auxiliary += path.nodes
                tensors.append(t)
            }
            group.inputs = Array(group.inputs.prefix(k))
            return tensors
        }

        switch n.op {
        case "Placeholder": group.op = .input
        case "Const":
            // A Const read as a value runs as its tensor passed on; a string Const (an Assert's
            // message) is kept as written, never read.
            guard case .type(let t)? = n.attribute("dtype"), TensorFlowDataType.dtype(t) != nil else { break }
            group.op = GraphDefOpMapper.constantOp
            group.weights = [.init(role: GraphDefOpMapper.constantRole,
                                   path: .init(constant: i, nodes: [], isShared: (graph.consumers[n.name]?.count ?? 0) > 1),
                                   layout: .vector, flatten: false)]
        case "Identity", "Snapshot", "StopGradient": if inputs.count == 1 { group.op = .identity }
        case "Cast":
            // Between float types a Cast passes values on (rounded to the new type): an identity
            // whose output value carries the new dtype. Other casts stay opaque.
            if case .type(let from)? = graph.attribute(i, "SrcT"), case .type(let to)? = graph.attribute(i, "DstT"),
               TensorFlowDataType.dtype(from)?.isFloatingPoint == true, TensorFlowDataType.dtype(to)?.isFloatingPoint == true,
               inputs.count == 1 {
                group.op = .identity
            }
        case "Switch", "RefSwitch":
            guard inputs.count == 2 else { break }
            let k = primaryOutput(ofSwitch: i)
            switchOutputsMade.insert(GraphDefGraph.valueName(n.name, k))
            return switchGroup(i, output: k, name: n.name)
        case "Merge", "RefMerge":
            // A Merge with one live input is that input (when its value_index output is unread).
            if let m = graph.conditions.merges[n.name], m.position < inputs.count,
               graph.consumers[GraphDefGraph.valueName(n.name, 1)] == nil {
                let live = inputs[m.position]
                group.op = passOn(i)
                group.inputs = [(live.value, slot(i, live.slot))]
            }
            return group
        case "PlaceholderWithDefault":
            // Never fed by bnconv: its default passed on.
            if inputs.count == 1 {
                group.op = passOn(i)
                return group
            }
        case "Relu": group.op = .activation(.relu())
        case "Relu6": group.op = .activation(.relu6)
        case "Sigmoid": group.op = .activation(.sigmoid)
        case "Tanh": group.op = .activation(.tanh)
        case "Elu": group.op = .activation(.elu(alpha: 1))
        case "Selu": group.op = .activation(.selu)
        case "Softplus": group.op = .activation(.softplus)
        case "Softsign": group.op = .activation(.softsign)
        case "LeakyRelu": group.op = .activation(.leakyRelu(alpha: float(i, "alpha", TensorFlowOpDefaults.leakyReluAlpha)))
        case "Softmax": group.op = .softmax(axis: -1)
        case "MaxPool", "AvgPool":
            guard let k = ints(i, "ksize"), let s = ints(i, "strides"), k.count == 4, s.count == 4,
                  (k + s).allSatisfy({ $0 >= 1 }) else { break }
            let spatial = layout == .channelsLast ? [1, 2] : [2, 3]
            let padding: Padding = string(i, "padding", "VALID") == "SAME" ? .same : .valid
            if string(i, "padding", "VALID") == "EXPLICIT" { break }
            group.op = .pool(Pool(kind: n.op == "MaxPool" ? .max : .average, poolSize: spatial.map { k[$0] },
                                  strides: spatial.map { s[$0] }, padding: padding, layout: layout))
        case "Mean", "Max":
            guard inputs.count == 2, let axes = constantOperands(from: 1)?.first?.integers().map({ Int($0) }) else {
                group.auxiliary = []; group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }; break
            }
            let keep = bool(i, "keep_dims", TensorFlowOpDefaults.keepDims)
            let kind: Pool.Kind = n.op == "Mean" ? .average : .max
            if axes == [1, 2] {
                group.op = .globalPool(GlobalPool(kind: kind, keepDims: keep, layout: .channelsLast))
            } else if axes == [2, 3] {
                group.op = .globalPool(GlobalPool(kind: kind, keepDims: keep, layout: .channelsFirst))
            } else {
                group.auxiliary = []; group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }
            }
        case "AddV2", "Add", "Sub", "Mul", "RealDiv", "Maximum", "Minimum":
            guard inputs.count == 2 else { break }
            if let rescaling = try rescaling(i, inputs) {
                group.op = rescaling.op
                group.inputs = [(rescaling.input.value, slot(i, rescaling.input.slot))]
                group.auxiliary = rescaling.auxiliary
                break
            }
            let kinds: [String: ElementwiseKind] = ["AddV2": .add, "Add": .add, "Sub": .subtract, "Mul": .multiply,
                                                    "Maximum": .maximum, "Minimum": .minimum]
            // The typed element-wise op merges activations; a constant operand goes to the op
            // library (below), as does another dtype than float32.
            if !inputs.contains(where: { graph.isConstant($0.value) }), let kind = kinds[n.op] { group.op = .elementwise(kind) }
        case "ConcatV2":
            guard inputs.count >= 2, let axis = constantOperands(from: inputs.count - 1)?.first?.integers().first else {
                group.auxiliary = []; group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }; break
            }
            group.op = .concat(axis: Int(axis))
        case "Reshape":
            guard inputs.count == 2, let target = constantOperands(from: 1)?.first?.integers().map({ Int($0) }),
                  !target.isEmpty, target.allSatisfy({ $0 >= -1 && $0 <= Int(Int32.max) }) else {
                group.auxiliary = []; group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }; break
            }
            group.op = .reshape(targetShape: Array(target.dropFirst()))
        case "Transpose":
            // A transpose that keeps the batch first is a Keras-style Permute (bnconv writes these
            // for layout conversions).
            guard inputs.count == 2, let perm = constantOperands(from: 1)?.first?.integers().map({ Int($0) }),
                  perm.count >= 2, perm[0] == 0, Set(perm) == Set(0..<perm.count) else {
                group.auxiliary = []; group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }; break
            }
            group.op = .permute(permutation: Array(perm.dropFirst()))
        case "Pad":
            guard inputs.count == 2, let p = constantOperands(from: 1)?.first, p.shape.count == 2, p.shape[1] == 2 else {
                group.auxiliary = []; group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }; break
            }
            let v = p.integers().map { Int($0) }
            let rows = p.shape[0]
            // Only spatial padding is modelled: batch and channel rows must be zero.
            if rows >= 3, v[0] == 0, v[1] == 0, v[2 * (rows - 1)] == 0, v[2 * (rows - 1) + 1] == 0 {
                group.op = .pad(padding: (1..<(rows - 1)).map { Pair(v[2 * $0], v[2 * $0 + 1]) }, layout: .channelsLast)
            } else if rows >= 3, v[0] == 0, v[1] == 0, v[2] == 0, v[3] == 0 {
                // Batch and channel rows zero with the channel second: channels-first padding.
                group.op = .pad(padding: (2..<rows).map { Pair(v[2 * $0], v[2 * $0 + 1]) }, layout: .channelsFirst)
            } else {
                group.auxiliary = []; group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }
            }
        default: break
        }
        // The typed layers compute float32: an op on int32 shape values or on another float type
        // (its `T`) goes to the op library, which computes every dtype.
        if dataType(i) != TensorFlowDataType.float, group.op != .input {
            switch group.op {
            case .opaque, .tensor: break
            default:
                group.op = .opaque(type: n.op)
                group.auxiliary = []
                group.weights = []
                group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }
            }
        }
        if case .opaque = group.op, n.op != "Const", let mapped = GraphDefOpMapper(graph: graph).map(i) {
            // Everything else the op library runs: every data input is an input of the node.
            group.op = .tensor(mapped.op)
            group.auxiliary = []
            group.inputs = inputs.map { ($0.value, slot(i, $0.slot)) }
            group.outputCount = mapped.outputs
        }
        claimed.formUnion(group.auxiliary.filter { !graph.isConstant(name($0)) })
        return group
    }
}
