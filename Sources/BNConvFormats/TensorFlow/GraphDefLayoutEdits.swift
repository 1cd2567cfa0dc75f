import BNConvCore
import BNConvModel
import BNConvInterop

/// The GraphDef edits that express a ``ConvertLayout`` conversion (NHWC <-> NCHW):
/// - `data_format` of Conv2D / DepthwiseConv2dNative / Conv2DBackpropInput / MaxPool / AvgPool /
///   BiasAdd / FusedBatchNorm* rewritten, their `strides` / `ksize` / `dilations` /
///   `explicit_paddings` lists permuted to the new layout (filters stay HWIO: TensorFlow's NCHW
///   convolutions read HWIO filters too);
/// - axis operands read from constants get new Consts: ConcatV2's axis, Mean/Max reduction axes,
///   Pad's paddings rows, Conv2DBackpropInput's `input_sizes` (a Pack of sizes is reordered);
/// - Placeholder `shape` permuted;
/// - every transpose the pass inserted becomes a new `Transpose` + int32 `Const` perm pair.
/// - a Conv1D written as ExpandDims -> Conv2D -> Squeeze gets a new ExpandDims axis Const and
///   `squeeze_dims` for the other layout (NWC expands at 1 / -3, NCW at 2 / -2), its Conv2D and
///   BiasAdd rewritten like any other;
/// - a BatchNorm decomposed into Rsqrt/Mul/Sub/Add (`tf.nn.batch_normalization`, what Keras emits
///   for 2-D/3-D inputs and Keras 3 always) has its four vector Consts stored with a broadcast
///   shape, `[C, 1, 1]` for NCHW (`[C, 1]` for NCW), `[C]` for channels-last
///   (``reshapedConstants``); the arithmetic then broadcasts over the channel axis, and the
///   reader takes the axis back from the stored dims.
/// What TensorFlow cannot express this way is refused: Softmax off the last axis (TensorFlow's
/// Softmax is last-axis only), BatchNormWithGlobalNormalization (no data_format; its vectors apply
/// on the last axis and its kernel requires 4-D input with channels last), a decomposed BatchNorm
/// whose vectors are shared with other ops or reach it through something else than
/// Identity/Snapshot/StopGradient/Cast (reshaping the Const would change what those compute).
struct GraphDefLayoutEdits {
    /// NodeDefs whose attributes changed, by name (inputs as read; rewired inputs are applied after).
    var replaced: [String: ProtobufNodeDef] = [:]
    /// Input rewrites: input `index` of NodeDef `nodeDef` now reads `input`.
    var inputs: [(nodeDef: String, index: Int, input: String)] = []
    /// New NodeDefs, in dependency order.
    var added: [ProtobufNodeDef] = []
    /// The tensor name a created value is read under (an inserted transpose's output).
    var tensorNames: [String: String] = [:]
    /// Consts to store with other dimensions (same values, same order): a decomposed BatchNorm's
    /// vectors, by Const name.
    var reshapedConstants: [String: [Int]] = [:]

    /// Works out the edits for `model` (whose nodes `changes` sets next to the nodes read);
    /// `original` holds the graph's NodeDefs by name and `names` hands out NodeDef names that
    /// collide with nothing. Constants are decoded within `limits`.
    init(model: Model, changes: ModelChanges, original: [String: ProtobufNodeDef], file: String, limits: ReadLimits,
         names: inout NameAllocator) throws {
        let shapes = ShapeInference.shapes(of: model)
        /// The rank of value `v`: inferred, or declared (a moved value whose sizes are unknown).
        func rank(_ v: String?) -> Int? { v.flatMap { shapes[$0]?.count ?? model.values[$0]?.shape?.count } }
        func fail(_ place: String, _ problem: String) -> CheckpointError {
            CheckpointError(.unsupported, file: file, place: place, problem: problem)
        }
        /// The Const behind `input` (through Identity chains) and its values.
        func constant(_ input: String) -> (node: ProtobufNodeDef, values: [Int64], dtype: Int32, dims: [Int])? {
            var name = GraphDefGraph.parse(input).node
            var steps = 0
            while let n = original[name], steps < 64 {
                if n.op == "Const", case .tensor(let t)? = n.attribute("value"),
                   let tensor = try? GraphDefTensorCodec.decode(t, file: file, place: name, limits: limits) {
                    return (n, tensor.integers(), t.dtype, tensor.shape)
                }
                guard ["Identity", "Snapshot"].contains(n.op), let next = n.inputs.first else { return nil }
                name = GraphDefGraph.parse(next).node
                steps += 1
            }
            return nil
        }
        /// A new integer Const of `dtype` (int32 or int64) holding `values` with `dims`.
        func addConstant(_ base: String, _ values: [Int64], dtype: Int32, dims: [Int]) -> String {
            let name = names.claim(base)
            let is64 = TensorFlowDataType.dtype(dtype) == .int64
            var bytes = [UInt8]()
            for v in values {
                if is64 { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
                else { withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { bytes.append(contentsOf: $0) } }
            }
            let tensor = try! Tensor(dtype: is64 ? .int64 : .int32, shape: dims, bytes: bytes)
            added.append(ProtobufNodeDef(name: name, op: "Const", inputs: [], attributes: [
                ("dtype", .type(TensorFlowDataType.value(is64 ? .int64 : .int32))),
                ("value", .tensor(GraphDefTensorCodec.encode(tensor, dims: dims))),
            ]))
            return name
        }

        /// Records `def` with `changes` applied to its attributes (kept in written order).
        func replace(_ def: ProtobufNodeDef, _ changes: [String: ProtobufAttrValue]) {
            var new = replaced[def.name] ?? def
            for (key, value) in changes {
                if let i = new.attributes.lastIndex(where: { $0.key == key }) { new.attributes[i].value = value }
                else { new.attributes.append((key, value)) }
            }
            replaced[def.name] = new
        }

        for change in changes.nodes {
            let node = model.nodes[change.index]
            guard let record = node.source as? GraphDefNodeRecord, let read = change.asRead else {
                guard case .permute(let dims) = node.op, node.inputs.count == 1 else { continue }
                // An inserted transpose: Transpose(x, Const perm) with the batch axis first.
                let name = names.claim(GraphDefLayoutEdits.tensorName(node.name))
                let perm = addConstant(name + "/perm", [0] + dims.map(Int64.init), dtype: TensorFlowDataType.value(.int32), dims: [dims.count + 1])
                let input = tensorNames[node.inputs[0]] ?? node.inputs[0]
                let dtype = model.values[node.inputs[0]]?.dtype ?? .float32
                added.append(ProtobufNodeDef(name: name, op: "Transpose", inputs: [input, perm], attributes: [
                    ("T", .type(TensorFlowDataType.value(dtype))), ("Tperm", .type(TensorFlowDataType.value(.int32))),
                ]))
                tensorNames[node.outputs[0]] = name
                continue
            }
            let from = GraphDefLayoutEdits.layout(of: read.op, rank: rank(node.inputs.first))
            let to = GraphDefLayoutEdits.layout(of: node.op, rank: rank(node.inputs.first))
            switch (node.op, read.op) {
            case (.input, _):
                guard let def = record.nodeDefs.first, case .shape(let dims?)? = def.attribute("shape"),
                      let now = model.values[node.outputs[0]]?.shape, now.count == dims.count else { continue }
                let newDims = now.map { Int64($0 ?? -1) }
                if newDims != dims { replace(def, ["shape": .shape(newDims)]) }
                continue
            case (.softmax(let a), .softmax(let b)):
                guard a != b else { continue }
                guard let rank = rank(node.inputs.first) else {
                    throw fail(node.name, "the rank of the Softmax's input is unknown; TensorFlow's Softmax works on the last axis only")
                }
                if Op.resolveAxis(a, rank: rank) != Op.resolveAxis(b, rank: rank) {
                    throw fail(node.name, "TensorFlow's Softmax works on the last axis only; after the layout change it would have to work on axis \(a)")
                }
                continue
            case (.concat(let a), .concat(let b)):
                guard a != b else { continue }
                guard let rank = rank(node.inputs.first) else {
                    throw fail(node.name, "the rank of the ConcatV2's inputs is unknown, so its axis cannot be rewritten")
                }
                guard Op.resolveAxis(a, rank: rank) != Op.resolveAxis(b, rank: rank) else { continue }
                guard let def = record.nodeDefs.first(where: { $0.op == "ConcatV2" }), let last = def.inputs.indices.last,
                      let c = constant(def.inputs[last]) else {
                    throw fail(node.name, "the ConcatV2 axis is not a constant bnconv can rewrite")
                }
                let axis = addConstant(def.name + "/bnconv_axis", [Int64(Op.resolveAxis(a, rank: rank))], dtype: c.dtype, dims: c.dims)
                inputs.append((def.name, last, axis))
                continue
            case (.reshape(let a), .reshape(let b)):
                // A vector reshaped to a spatial value moved to the new layout (squeeze-excite):
                // the Reshape gets a new shape Const, the batch entry as written.
                guard a != b else { continue }
                guard let def = record.nodeDefs.first(where: { $0.op == "Reshape" }), def.inputs.count >= 2 else {
                    throw fail(node.name, "the Reshape's shape is not a constant bnconv can rewrite")
                }
                if let c = constant(def.inputs[1]), c.values.count == a.count + 1 {
                    let shape = addConstant(def.name + "/bnconv_shape", [c.values[0]] + a.map { Int64($0) }, dtype: c.dtype, dims: c.dims)
                    inputs.append((def.name, 1, shape))
                    continue
                }
                // Keras writes the shape as Pack(batch, d1, d2, d3) (a dynamic batch): its operands
                // are reordered the way the layout permutes the axes.
                let pack = GraphDefGraph.parse(def.inputs[1]).node
                guard let packDef = original[pack], packDef.op == "Pack", packDef.inputs.count == a.count + 1 else {
                    throw fail(node.name, "the Reshape's shape is neither a constant nor a Pack bnconv can reorder")
                }
                // The channel moved from last to first, or back.
                let (from, to): (DataLayout, DataLayout) = a.first == b.last && a.first != 1 ? (.channelsLast, .channelsFirst) : (.channelsFirst, .channelsLast)
                let perm = [0] + LayoutPermutation.permuteDims(rank: a.count + 1, from: from, to: to)  // Keras dims are 1-based, batch excluded
                for (k, source) in perm.enumerated() where source != k {
                    inputs.append((packDef.name, k, packDef.inputs[source]))
                }
                continue
            default:
                break
            }
            guard let from, let to else {
                // A layout change bnconv cannot name as a data_format (a BN's axis moved on an input of
                // unknown rank, or off the channel axes) is never written as read.
                var axisMoved = false
                if case .batchNorm(let a) = node.op, case .batchNorm(let b) = read.op { axisMoved = a.axis != b.axis }
                if axisMoved || (from == nil) != (to == nil) {
                    throw fail(node.name, "its \(node.opName) changed layout in a way bnconv cannot write as a data_format (the rank of its input is unknown, or its axis is not a channel axis)")
                }
                continue
            }
            guard from != to else { continue }
            let format = to == .channelsFirst ? "NCHW" : "NHWC"
            if case .batchNorm = node.op, record.nodeDefs.contains(where: { $0.op == "Rsqrt" }) {
                try reshapeDecomposedBatchNorm(node, record, rank: rank(node.inputs.first), to: to,
                                               original: original, fail: fail)
                continue
            }
            for def in record.nodeDefs {
                switch def.op {
                case "ExpandDims":
                    // Conv1D: the spatial axis a channels-last input gets is 1 (or -3), a channels-first one 2 (or -2).
                    guard def.inputs.count == 2, let c = constant(def.inputs[1]), c.values.count == 1,
                          let axis = GraphDefLayoutEdits.conv1DAxis(c.values[0], from: from, to: to) else {
                        throw fail(node.name, "the Conv1D's ExpandDims axis is not a constant 1 / -3 (NWC) or 2 / -2 (NCW)")
                    }
                    inputs.append((def.name, 1, addConstant(def.name + "/bnconv_axis", [axis], dtype: c.dtype, dims: c.dims)))
                case "Squeeze":
                    guard case .list(var list)? = def.attribute("squeeze_dims"), list.ints.count == 1,
                          let axis = GraphDefLayoutEdits.conv1DAxis(list.ints[0], from: from, to: to) else {
                        throw fail(node.name, "the Conv1D's Squeeze does not remove the one axis its ExpandDims added")
                    }
                    list.ints = [axis]
                    replace(def, ["squeeze_dims": .list(list)])
                case "Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MaxPool", "AvgPool", "BiasAdd",
                     "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3":
                    var changes: [String: ProtobufAttrValue] = ["data_format": .bytes(Array(format.utf8))]
                    for key in ["strides", "ksize", "dilations"] {
                        if case .list(var list)? = def.attribute(key), list.ints.count == 4 {
                            list.ints = LayoutPermutation.mapShape(list.ints, from: from, to: to)
                            changes[key] = .list(list)
                        }
                    }
                    if case .list(var list)? = def.attribute("explicit_paddings"), list.ints.count == 8 {
                        let pairs = (0..<4).map { [list.ints[2 * $0], list.ints[2 * $0 + 1]] }
                        list.ints = LayoutPermutation.mapShape(pairs, from: from, to: to).flatMap { $0 }
                        changes["explicit_paddings"] = .list(list)
                    }
                    replace(def, changes)
                    if def.op == "Conv2DBackpropInput", let sizes = def.inputs.first {
                        if let c = constant(sizes), c.values.count == 4 {
                            let permuted = LayoutPermutation.mapShape(c.values, from: from, to: to)
                            inputs.append((def.name, 0, addConstant(def.name + "/bnconv_input_sizes", permuted, dtype: c.dtype, dims: c.dims)))
                        } else if let pack = original[GraphDefGraph.parse(sizes).node], pack.op == "Pack", pack.inputs.count == 4 {
                            let reordered = LayoutPermutation.mapShape(pack.inputs, from: from, to: to)
                            for (k, input) in reordered.enumerated() where input != pack.inputs[k] { inputs.append((pack.name, k, input)) }
                        } else {
                            throw fail(node.name, "the transposed convolution's input_sizes is neither a constant nor a Pack bnconv can reorder")
                        }
                    }
                case "Mean", "Max":
                    guard def.inputs.count == 2, let c = constant(def.inputs[1]) else {
                        throw fail(node.name, "the reduction axes are not a constant bnconv can rewrite")
                    }
                    let axes = c.values.map { Int64(LayoutPermutation.mapAxis(Int($0), rank: 4, from: from, to: to)) }
                    inputs.append((def.name, 1, addConstant(def.name + "/bnconv_axes", axes, dtype: c.dtype, dims: c.dims)))
                case "Pad", "PadV2", "MirrorPad":
                    guard def.inputs.count >= 2, let c = constant(def.inputs[1]), c.dims.count == 2, c.dims[1] == 2,
                          c.dims[0] >= 3, c.dims[0] == rank(node.inputs.first), c.values.count == 2 * c.dims[0] else {
                        throw fail(node.name, "the paddings are not a constant of one row per axis bnconv can rewrite")
                    }
                    let rows = (0..<c.dims[0]).map { [c.values[2 * $0], c.values[2 * $0 + 1]] }
                    let permuted = LayoutPermutation.mapShape(rows, from: from, to: to).flatMap { $0 }
                    inputs.append((def.name, 1, addConstant(def.name + "/bnconv_paddings", permuted, dtype: c.dtype, dims: c.dims)))
                case "Identity", "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "LeakyRelu", "Softplus", "Softsign", "Cast":
                    break
                default:
                    if case .batchNorm = node.op {
                        throw fail(node.name, "this BatchNorm is written with \(def.op), which applies its per-channel vectors on the last axis (no data_format); it cannot change layout in a GraphDef")
                    }
                    throw fail(node.name, "its \(def.op) NodeDef '\(def.name)' has no layout bnconv can rewrite")
                }
            }
        }

    }

    /// Records the broadcast-shaped storage of a decomposed BatchNorm's vectors for layout `to`.
    private mutating func reshapeDecomposedBatchNorm(_ node: Node, _ record: GraphDefNodeRecord, rank: Int?, to: DataLayout,
                                                     original: [String: ProtobufNodeDef],
                                                     fail: (String, String) -> CheckpointError) throws {
        guard let rank, rank >= 3 else { throw fail(node.name, "the BatchNorm's input rank is unknown") }
        let members = Set(record.nodeDefNames)
        var readers: [String: [String]] = [:]
        for def in original.values {
            for input in def.inputs {
                let ref = GraphDefGraph.parse(input)
                if !ref.isControl { readers[ref.node, default: []].append(def.name) }
            }
        }
        for weight in node.weights {
            let c = weight.tensor.count
            guard !weight.isShared, original[weight.storageKey]?.op == "Const" else {
                throw fail(node.name, "its \(weight.role) vector '\(weight.storageKey)' is shared with other ops; storing it as [\(c), 1, ...] for \(to == .channelsFirst ? "NCHW" : "NHWC") would change them too")
            }
            // From the Const to the BatchNorm's own arithmetic through pass-through ops only.
            var at = weight.storageKey
            while !members.contains(at) {
                guard let next = readers[at], next.count == 1 else {
                    throw fail(node.name, "its \(weight.role) vector '\(weight.storageKey)' is read \(readers[at]?.count ?? 0) times on its way to the BatchNorm; it cannot be stored with a broadcast shape")
                }
                at = next[0]
                if !members.contains(at), let op = original[at]?.op, !GraphDefGraph.passthroughOps.contains(op) {
                    throw fail(node.name, "its \(weight.role) vector reaches the BatchNorm through \(op) '\(at)'; only a Const read through Identity/Snapshot/StopGradient/Cast can be stored with a broadcast shape")
                }
            }
            reshapedConstants[weight.storageKey] = to == .channelsFirst ? [c] + Array(repeating: 1, count: rank - 2) : [c]
        }
    }

    /// The ExpandDims / Squeeze axis of a Conv1D (ExpandDims -> Conv2D -> Squeeze) moved from
    /// layout `from` to `to`: NWC inserts the dummy height at 1 (or -3), NCW at 2 (or -2); nil
    /// for another axis.
    static func conv1DAxis(_ axis: Int64, from: DataLayout, to: DataLayout) -> Int64? {
        let last: [Int64] = [1, -3], first: [Int64] = [2, -2]
        let (a, b) = from == .channelsLast ? (last, first) : (first, last)
        guard let k = a.firstIndex(of: axis) else { return nil }
        return from == to ? axis : b[k]
    }

    /// The activation layout an op works in: its `layout` attribute, or for a BatchNorm of a
    /// rank-`rank` tensor, the layout its channel axis implies.
    static func layout(of op: Op, rank: Int?) -> DataLayout? {
        switch op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.layout
        case .pool(let p): return p.layout
        case .globalPool(let g): return g.layout
        case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): return l
        case .batchNorm(let bn):
            guard let rank, rank >= 3 else { return nil }
            let axis = Op.resolveAxis(bn.axis, rank: rank)
            return axis == 1 ? .channelsFirst : (axis == rank - 1 ? .channelsLast : nil)
        default: return nil
        }
    }

    /// A value name made a NodeDef name (TensorFlow allows `[A-Za-z0-9.][A-Za-z0-9_./-]*`).
    static func tensorName(_ name: String) -> String {
        let body = String(name.map { $0.isLetter || $0.isNumber || "_./-".contains($0) ? $0 : "_" })
        return body.first.map { $0.isLetter || $0.isNumber || $0 == "." } == true ? body : "t" + body
    }
}
