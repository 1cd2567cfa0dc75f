import BNConvCore
import BNConvModel

/// What the ONNX exporter knows of each value of a channels-first ``Model`` before it writes it:
/// the element type the exported graph gives it, its shape as far as it is known (`nil` entries
/// are unknown dimensions, a `nil` shape an unknown rank), and the constant it always holds when a
/// `Const` (an op-library Identity of a weight) produces it.
///
/// Typed CNN ops compute in the graph's float type; op-library ops follow ONNX's type rules
/// (``TensorOp/boolResults`` give bool, `Cast` its `to`, a TensorFlow `Shape` its `out_type`, ...)
/// and their shapes those of the op (Pack inserts an axis, StridedSlice keeps and drops axes as
/// its masks say, ...). Lowerings and opset upgrades read ranks (a StridedSlice's ellipsis, a
/// channels-first BiasAdd, a convolution's group count) and constants (begin, end and strides)
/// from here.
struct ONNXExportFacts {
    /// Element types by value.
    private(set) var dtypes: [String: DType] = [:]
    /// Shapes by value (batch first).
    private(set) var shapes: [String: [Int?]] = [:]
    /// Constant values by value name.
    private(set) var constants: [String: Tensor] = [:]

    /// The facts of every value of `model`, whose typed ops compute in `floatType`.
    init(model: Model, floatType: DType) {
        for input in model.inputs {
            dtypes[input] = model.values[input]?.dtype ?? floatType
            shapes[input] = model.values[input]?.shape
        }
        for node in model.nodes {
            switch node.op {
            case .input:
                for o in node.outputs {
                    if dtypes[o] == nil { dtypes[o] = model.values[o]?.dtype ?? floatType }
                    if shapes[o] == nil { shapes[o] = model.values[o]?.shape }
                }
            case .tensor(let op):
                record(op, node: node, declared: model.values)
            case .permute, .identity:
                // A transpose keeps its input's type; an identity (also a TensorFlow Cast between
                // float types) gives a float value in the graph's float type, like the layers.
                let x = node.inputs.first ?? ""
                let isIdentity: Bool = { if case .identity = node.op { return true } else { return false } }()
                for o in node.outputs {
                    let type = dtypes[x] ?? floatType
                    dtypes[o] = isIdentity && type.isFloatingPoint ? floatType : type
                    shapes[o] = ShapeInference.outputShape(of: node, inputs: node.inputs.map { shapes[$0] })
                }
            case .opaque:
                for o in node.outputs { dtypes[o] = model.values[o]?.dtype }
            default:
                let shape = ShapeInference.outputShape(of: node, inputs: node.inputs.map { shapes[$0] })
                for o in node.outputs {
                    dtypes[o] = floatType
                    shapes[o] = shape
                }
            }
        }
    }

    /// The element type of `value`, when known.
    func dtype(_ value: String) -> DType? { dtypes[value] }

    /// The shape of `value`, when its rank is known.
    func shape(_ value: String) -> [Int?]? { shapes[value] }

    /// The rank of `value`, when known.
    func rank(_ value: String) -> Int? { shapes[value]?.count }

    /// The constant `value` always holds, when a Const produces it.
    func constant(_ value: String) -> Tensor? { constants[value] }

    /// The integers `value` always holds, when a Const produces it.
    func integers(_ value: String) -> [Int]? {
        constants[value].map { $0.integers().map { Int(truncatingIfNeeded: $0) } }
    }

    /// The largest constant (in elements) kept as a known value.
    static let constantLimit = 1 << 16

    // MARK: - Op-library ops

    /// Operand `position` of `op` on `node`: its type, shape and constant.
    private func operand(_ op: TensorOp, _ node: Node, _ position: Int) -> (dtype: DType?, shape: [Int?]?, constant: Tensor?) {
        guard position < op.arguments.count else { return (nil, nil, nil) }
        switch op.arguments[position] {
        case .value(let i):
            guard i < node.inputs.count else { return (nil, nil, nil) }
            let v = node.inputs[i]
            return (dtypes[v], shapes[v], constants[v])
        case .weight(let role):
            guard let t = node.weight(role)?.tensor else { return (nil, nil, nil) }
            return (t.dtype, t.shape.map { $0 }, t)
        case .absent:
            return (nil, nil, nil)
        }
    }

    private mutating func record(_ op: TensorOp, node: Node, declared: [String: ValueInfo]) {
        let first = operand(op, node, 0)
        let attributes = op.attributes
        func int(_ name: String) -> Int? { if case .int(let v)? = attributes[name] { return v } else { return nil } }
        func ints(_ name: String) -> [Int]? {
            switch attributes[name] {
            case .ints(let v)?: return v
            case .int(let v)?: return [v]
            default: return nil
            }
        }
        func integers(_ position: Int) -> [Int]? {
            guard let t = operand(op, node, position).constant, t.count <= Self.constantLimit, let loaded = try? t.materialized() else { return nil }
            return loaded.integers().map { Int(truncatingIfNeeded: $0) }
        }
        // Constants: a Const is an Identity of its weight; an Identity passes a constant on. Only
        // small ones are kept (axes, shapes, begin/end), loaded.
        if op.type == "Identity", let t = first.constant, t.count <= Self.constantLimit, let o = node.outputs.first,
           let loaded = try? t.materialized() {
            constants[o] = loaded
        }

        // Element types.
        var dtype: DType?
        switch op.type {
        case _ where TensorOp.boolResults.contains(op.type): dtype = .bool
        case "Cast":
            dtype = int("to").flatMap { ONNXTensorCodec.dtype(of: Int32(truncatingIfNeeded: $0)) }
        case "TF.Shape", "TF.Size":
            if case .string(let raw)? = attributes["out_type"] { dtype = DType(rawValue: raw) } else { dtype = .int32 }
        case "TF.Rank": dtype = .int32
        case "Shape", "Size", "ArgMax", "ArgMin", "NonZero": dtype = .int64
        case "CastLike", "Where", "TF.Fill": dtype = operand(op, node, 1).dtype
        case "OneHot": dtype = operand(op, node, 2).dtype
        default: dtype = first.dtype
        }
        let declaredType = node.outputs.first.flatMap { declared[$0]?.dtype }

        // Shapes.
        let shape = outputShape(op, node: node, first: first.shape, int: int, ints: ints, integers: integers)
        for (k, o) in node.outputs.enumerated() {
            if op.type == "TF.IdentityN" || (op.type == "Identity" && node.outputs.count > 1) {
                let each = operand(op, node, k)
                dtypes[o] = each.dtype ?? declared[o]?.dtype
                shapes[o] = each.shape
                continue
            }
            dtypes[o] = dtype ?? declaredType
            shapes[o] = shape
        }
    }

    private func outputShape(_ op: TensorOp, node: Node, first x: [Int?]?, int: (String) -> Int?, ints: (String) -> [Int]?,
                             integers: (Int) -> [Int]?) -> [Int?]? {
        func axis(_ a: Int, rank: Int) -> Int? { let r = a < 0 ? a + rank : a; return r >= 0 && r < rank ? r : nil }
        switch op.type {
        case "Identity", "TF.ZerosLike", "TF.OnesLike", "TF.IdentityN":
            return x
        case "Shape", "TF.Shape":
            return x.map { [$0.count] }
        case "Size", "TF.Size", "TF.Rank":
            return []
        case "TF.Pack":
            let parts = op.arguments.indices.map { operand(op, node, $0).shape }
            guard let s = x, parts.allSatisfy({ $0?.count == s.count }) else { return nil }
            guard let a = axis(int("axis") ?? 0, rank: s.count + 1) else { return nil }
            var out = s.indices.map { d in parts.compactMap { $0?[d] }.first }
            out.insert(parts.count, at: a)
            return out
        case "Unsqueeze":
            let axes = op.opset < 13 ? ints("axes") : integers(1)
            guard var out = x, let axes else { return nil }
            let rank = out.count + axes.count
            for a in axes.compactMap({ axis($0, rank: rank) }).sorted() where a <= out.count { out.insert(1, at: a) }
            return out.count == rank ? out : nil
        case "Squeeze":
            let axes = op.opset < 13 ? ints("axes") : integers(1)
            guard let s = x else { return nil }
            if let axes {
                let drop = Set(axes.compactMap { axis($0, rank: s.count) })
                return s.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
            }
            guard !s.contains(where: { $0 == nil }) else { return nil }
            return s.filter { $0 != 1 }
        case "Reshape":
            if let target = op.opset < 5 ? ints("shape") : integers(1) {
                let allowZero = (int("allowzero") ?? 0) != 0
                var out: [Int?] = target.enumerated().map { d, v in
                    if v == 0 && !allowZero { return x.flatMap { d < $0.count ? $0[d] : nil } }
                    return v < 0 ? nil : v
                }
                if let minus = target.firstIndex(of: -1), let s = x, !s.contains(where: { $0 == nil }) {
                    let known = out.enumerated().filter { $0.offset != minus }.map(\.element)
                    if !known.contains(where: { $0 == nil }), let total = ShapeInference.checkedProduct(s.map { $0! }),
                       let part = ShapeInference.checkedProduct(known.map { $0! }), part > 0 {
                        out[minus] = total / part
                    }
                }
                return out
            }
            if case .value(let i)? = op.arguments.dropFirst().first, i < node.inputs.count,
               let n = shapes[node.inputs[i]]?.first, let n {
                return Array(repeating: nil, count: n)
            }
            return nil
        case "Transpose":
            guard let s = x else { return nil }
            let perm = ints("perm") ?? Array((0..<s.count).reversed())
            guard perm.count == s.count, perm.allSatisfy({ $0 >= 0 && $0 < s.count }) else { return nil }
            return perm.map { s[$0] }
        case "TF.StridedSlice":
            guard let b = integers(1), let e = integers(2) else { return nil }
            let plan = try? ONNXStridedSlicePlan(op: op, begin: b, end: e, strides: integers(3) ?? Array(repeating: 1, count: b.count), input: x)
            return plan?.outputShape
        case "TF.Slice":
            guard let s = x, let b = integers(1), let size = integers(2), b.count == s.count, size.count == s.count else {
                return x.map { Array(repeating: nil, count: $0.count) }
            }
            return s.indices.map { d in size[d] == -1 ? s[d].map { $0 - b[d] } : size[d] }
        case "TF.Fill":
            if let dims = integers(0) { return dims }
            return operand(op, node, 0).shape?.first.flatMap { n in n.map { Array(repeating: nil, count: $0) } }
        case "TF.MirrorPad", "Pad":
            guard let s = x else { return nil }
            let pads = op.type == "TF.MirrorPad" ? integers(1).map { p in (0..<p.count / 2).map { p[2 * $0] } + (0..<p.count / 2).map { p[2 * $0 + 1] } }
                : (op.opset < 11 ? ints(op.opset < 2 ? "paddings" : "pads") : integers(1))
            guard let pads, pads.count == 2 * s.count else { return Array(repeating: nil, count: s.count) }
            return s.indices.map { d in s[d].map { $0 + pads[d] + pads[d + s.count] } }
        case "TF.Conv2D", "TF.DepthwiseConv2dNative":
            let filter = operand(op, node, 1).shape
            var channels: Int?
            if let f = filter, f.count == 4 {
                if op.type == "TF.Conv2D" { channels = f[3] } else if let c = f[2], let m = f[3] { channels = c * m }
            }
            let nchw: Bool = { if case .string(let f)? = op.attributes["data_format"] { return f.hasPrefix("NC") } else { return false } }()
            return nchw ? [x?.first ?? nil, channels, nil, nil] : [x?.first ?? nil, nil, nil, channels]
        case "TF.All", "TF.Any", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceLogSum",
             "ReduceLogSumExp", "ReduceSumSquare", "ReduceL1", "ReduceL2":
            guard let s = x else { return nil }
            let tensorFlow = op.type.hasPrefix("TF.")
            let keep = tensorFlow ? (int("keep_dims") ?? 0) != 0 : (int("keepdims") ?? 1) != 0
            let fromInput = tensorFlow || op.opset >= (op.type == "ReduceSum" ? 13 : 18)
            var given: [Int]?
            if fromInput {
                if op.arguments.count > 1 && op.arguments[1] != .absent {
                    guard let axes = integers(1) else { return keep ? Array(repeating: nil, count: s.count) : nil }
                    given = axes
                }
            } else {
                given = ints("axes")
            }
            // An empty axes list reduces nothing in TensorFlow and with noop_with_empty_axes.
            if let given, given.isEmpty, tensorFlow || (int("noop_with_empty_axes") ?? 0) != 0 { return s }
            let axes = Set((given ?? []).compactMap { axis($0, rank: s.count) })
            var out: [Int?] = []
            for (d, v) in s.enumerated() {
                if axes.isEmpty || axes.contains(d) {
                    if keep { out.append(1) }
                } else {
                    out.append(v)
                }
            }
            return out
        case "ArgMax", "ArgMin":
            guard var s = x, let a = axis(int("axis") ?? 0, rank: s.count) else { return nil }
            if (int("keepdims") ?? 1) != 0 { s[a] = 1 } else { s.remove(at: a) }
            return s
        case "Gather":
            guard let s = x, let a = axis(int("axis") ?? 0, rank: s.count), let indices = operand(op, node, 1).shape else { return nil }
            return Array(s[..<a]) + indices + Array(s[(a + 1)...])
        case "Split", "Slice", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Tile", "MaxPool", "AveragePool", "LpPool":
            return x.map { Array(repeating: nil, count: $0.count) }
        case "Expand":
            guard let s = x, let n = operand(op, node, 1).shape?.first, let n else { return nil }
            return Array(repeating: nil, count: max(s.count, n))
        default:
            let inputs = node.inputs.map { shapes[$0] }
            return ShapeInference.outputShape(of: node, inputs: inputs)
        }
    }
}
