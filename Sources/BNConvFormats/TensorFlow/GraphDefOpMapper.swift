import BNConvCore
import BNConvModel
import BNConvInterop
import BNConvOps

/// Maps a TensorFlow op that no CNN pattern claims onto the op library (``Op/tensor(_:)``): the
/// ONNX operator with TensorFlow's semantics (op definitions in tensorflow/core/ops/*.cc, defaults
/// as ``TensorFlowOpDefaults`` gives them), or one of the library's `TF.` ops where ONNX has no
/// single equivalent (StridedSlice's masks, Pack, MirrorPad, ...).
///
/// Every data input stays an input of the node (a `Const` operand is the output of its own
/// node); an operand ONNX takes as an attribute (an axis, a permutation) is read from its Const.
struct GraphDefOpMapper {
    /// The graph.
    let graph: GraphDefGraph

    /// The mapping of node `i`: the op and how many outputs it writes; nil when the op library
    /// has no form of it.
    func map(_ i: Int) -> (op: TensorOp, outputs: Int)? {
        let n = graph.nodes[i]
        let count = graph.dataInputs(i).count
        /// All data inputs in order.
        func all(_ type: String, opset: Int = 18, _ attributes: [String: OpAttribute] = [:], outputs: Int = 1) -> (op: TensorOp, outputs: Int) {
            (TensorOp(type: type, opset: opset, attributes: attributes, arguments: (0..<count).map { .value($0) }), outputs)
        }
        /// The first `k` data inputs.
        func first(_ k: Int, _ type: String, opset: Int = 18, _ attributes: [String: OpAttribute] = [:]) -> (op: TensorOp, outputs: Int)? {
            guard count >= k else { return nil }
            return (TensorOp(type: type, opset: opset, attributes: attributes, arguments: (0..<k).map { .value($0) }), 1)
        }
        // Ops that pass their first input on at inference.
        let identities: Set<String> = ["Identity", "Snapshot", "StopGradient", "CheckNumerics", "PreventGradient"]
        /// The NodeDef's attributes `keys` as they are (INT, STRING, a non-empty list of INTs; others left out).
        func copied(_ keys: [String]) -> [String: OpAttribute] {
            var attributes: [String: OpAttribute] = [:]
            for key in keys {
                switch n.attribute(key) {
                case .int(let v)?: attributes[key] = .int(Int(v))
                case .bytes(let b)?: attributes[key] = .string(String(decoding: b, as: UTF8.self))
                case .list(let l)? where !l.ints.isEmpty: attributes[key] = .ints(l.ints.map { Int($0) })
                default: break
                }
            }
            return attributes
        }
        if identities.contains(n.op) { return first(1, "Identity", opset: 14) }
        if let type = Self.elementwiseTypes[n.op] { return all(type, opset: 14) }
        if let type = Self.tensorFlowTypes[n.op] {
            return all(type, copied(["begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask", "mode", "data_format"]))
        }
        switch n.op {
        case "Conv2D", "DepthwiseConv2dNative":
            // A filter computed in the graph (a constant one is a CNN pattern's weight).
            return first(2, "TF.\(n.op)", copied(["strides", "dilations", "explicit_paddings", "padding", "data_format"]))
        case "IdentityN":
            return all("TF.IdentityN", outputs: count)
        case "Shape", "Size":
            return first(1, "TF.\(n.op)", ["out_type": .string(dtype(i, "out_type", .int32).rawValue)])
        case "Select":
            // Select with a vector condition picks rows; with a condition of the operands' shape it is Where.
            return all("Where", opset: 16)
        case "Cast":
            guard case .type(let to)? = n.attribute("DstT"), let dtype = TensorFlowDataType.dtype(to), let code = Self.onnxCode(dtype) else { return nil }
            return first(1, "Cast", opset: 13, ["to": .int(code)])
        case "ExpandDims":
            return first(2, "Unsqueeze", opset: 13)
        case "Squeeze":
            var attributes: [String: OpAttribute] = [:]
            if case .list(let l)? = n.attribute("squeeze_dims"), !l.ints.isEmpty { attributes["axes"] = .ints(l.ints.map { Int($0) }) }
            return first(1, "Squeeze", opset: 11, attributes)
        case "Reshape":
            // TensorFlow's 0 is a dimension of size 0, not "copy the input's" as in ONNX.
            return first(2, "Reshape", opset: 14, ["allowzero": .int(1)])
        case "Transpose":
            guard let perm = constantInts(i, 1) else { return nil }
            return first(1, "Transpose", opset: 13, ["perm": .ints(perm)])
        case "ConcatV2":
            guard count >= 2, let axis = constantInts(i, count - 1)?.first else { return nil }
            return first(count - 1, "Concat", opset: 13, ["axis": .int(axis)])
        case "Pack":
            return all("TF.Pack", copied(["axis"]))
        case "GatherV2":
            guard count == 3, let axis = constantInts(i, 2)?.first else { return nil }
            if case .int(let b)? = n.attribute("batch_dims"), b != 0 { return nil }
            return first(2, "Gather", opset: 13, ["axis": .int(axis)])
        case "Gather":
            return first(2, "Gather", opset: 13, ["axis": .int(0)])
        case "Mean", "Sum", "Max", "Min", "Prod":
            let keep = { if case .bool(let b)? = n.attribute("keep_dims") { return b } else { return TensorFlowOpDefaults.keepDims } }()
            let type = ["Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin", "Prod": "ReduceProd"][n.op]!
            // An empty reduction_indices reduces no axis in TensorFlow (the input comes back, keep_dims
            // or not; Tests/Fixtures/graphdef_ops/empty_axes records it), where ONNX
            // reduces every axis unless noop_with_empty_axes is set.
            return first(2, type, opset: 18, ["keepdims": .int(keep ? 1 : 0), "noop_with_empty_axes": .int(1)])
        case "All", "Any":
            let keep = { if case .bool(let b)? = n.attribute("keep_dims") { return b } else { return TensorFlowOpDefaults.keepDims } }()
            return first(2, "TF.\(n.op)", ["keep_dims": .int(keep ? 1 : 0)])
        case "ArgMax", "ArgMin":
            // output_type: int64 by default (math_ops.cc), as ONNX's; int32 is not expressed.
            guard let axis = constantInts(i, 1)?.first, dtype(i, "output_type", .int64) == .int64 else { return nil }
            return first(1, n.op, opset: 13, ["axis": .int(axis), "keepdims": .int(0)])
        case "Pad", "PadV2":
            guard let pads = constantInts(i, 1), pads.count % 2 == 0 else { return nil }
            let rank = pads.count / 2
            var attributes: [String: OpAttribute] = ["mode": .string("constant"),
                                                     "pads": .ints((0..<rank).map { pads[2 * $0] } + (0..<rank).map { pads[2 * $0 + 1] })]
            if n.op == "PadV2" {
                guard let value = constantDoubles(i, 2)?.first else { return nil }
                attributes["value"] = .float(value)
            }
            return first(1, "Pad", opset: 2, attributes)
        case "Split":
            guard count == 2, let axis = constantInts(i, 0)?.first, case .int(let k)? = n.attribute("num_split"), k >= 1, k <= 1 << 16 else { return nil }
            return (TensorOp(type: "Split", opset: 11, attributes: ["axis": .int(axis)], arguments: [.value(1)]), Int(k))
        case "SplitV":
            guard count == 3, let sizes = constantInts(i, 1), let axis = constantInts(i, 2)?.first, !sizes.contains(-1) else { return nil }
            return (TensorOp(type: "Split", opset: 11, attributes: ["axis": .int(axis), "split": .ints(sizes)], arguments: [.value(0)]), sizes.count)
        case "LogSoftmax":
            return first(1, "LogSoftmax", opset: 13, ["axis": .int(-1)])
        case "Softmax":
            return first(1, "Softmax", opset: 13, ["axis": .int(-1)])
        default:
            return nil
        }
    }

    /// TensorFlow ops that are one ONNX operator with every data input in order, by TensorFlow op
    /// name (also the TensorFlow ops behind a tf_keras TFOpLambda, `KerasOpLambdaMapper`).
    static let elementwiseTypes: [String: String] = [
        "Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div", "Maximum": "Max", "Minimum": "Min",
        "Pow": "Pow", "Equal": "Equal", "Greater": "Greater", "Less": "Less", "GreaterEqual": "GreaterOrEqual",
        "LessEqual": "LessOrEqual", "LogicalAnd": "And", "LogicalOr": "Or", "LogicalNot": "Not", "Sqrt": "Sqrt",
        "Neg": "Neg", "Abs": "Abs", "Exp": "Exp", "Log": "Log", "Reciprocal": "Reciprocal", "Inv": "Reciprocal",
        "Floor": "Floor", "Ceil": "Ceil", "Erf": "Erf", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Relu": "Relu",
        "Softplus": "Softplus", "Softsign": "Softsign", "Sign": "Sign", "SelectV2": "Where", "AddN": "Sum",
        "Elu": "Elu", "Selu": "Selu", "Tile": "Tile", "Range": "Range",
    ]

    /// TensorFlow ops the op library runs as its own `TF.` op with every data input in order.
    static let tensorFlowTypes: [String: String] = [
        "StridedSlice": "TF.StridedSlice", "Slice": "TF.Slice", "Square": "TF.Square", "Rsqrt": "TF.Rsqrt",
        "SquaredDifference": "TF.SquaredDifference", "DivNoNan": "TF.DivNoNan", "FloorDiv": "TF.FloorDiv",
        "MirrorPad": "TF.MirrorPad", "BiasAdd": "TF.BiasAdd", "Fill": "TF.Fill", "Rank": "TF.Rank",
        "ZerosLike": "TF.ZerosLike", "OnesLike": "TF.OnesLike",
    ]

    /// The op of a `Const` node read as a value: its tensor (the node's `value` weight) passed on.
    static let constantOp = Op.tensor(TensorOp(type: "Identity", opset: 14, arguments: [.weight(constantRole)]))
    /// The weight role of a `Const` node's tensor.
    static let constantRole = WeightRole(rawValue: "value")

    /// The values of the Const behind data input `k` of node `i` as integers.
    private func constantInts(_ i: Int, _ k: Int) -> [Int]? {
        constantTensor(i, k).map { $0.integers().map { Int(truncatingIfNeeded: $0) } }
    }

    /// The values of the Const behind data input `k` of node `i` as doubles.
    private func constantDoubles(_ i: Int, _ k: Int) -> [Double]? { constantTensor(i, k)?.doubles() }

    private func constantTensor(_ i: Int, _ k: Int) -> Tensor? {
        let inputs = graph.dataInputs(i)
        guard k < inputs.count, let path = graph.constant(behind: inputs[k].value, allowShapeOps: false),
              let t = try? graph.tensor(ofConstant: path.constant), t.count <= 1 << 16 else { return nil }
        return t
    }

    /// The dtype a type attribute of node `i` names.
    private func dtype(_ i: Int, _ key: String, _ fallback: DType) -> DType {
        if case .type(let t)? = graph.attribute(i, key), let d = TensorFlowDataType.dtype(t) { return d }
        return fallback
    }

    /// ONNX's TensorProto.DataType code of `dtype` (onnx.proto: FLOAT 1, UINT8 2, INT8 3, INT16 5,
    /// INT32 6, INT64 7, BOOL 9, FLOAT16 10, DOUBLE 11, BFLOAT16 16).
    static func onnxCode(_ dtype: DType) -> Int? {
        switch dtype {
        case .float32: return 1
        case .uint8: return 2
        case .int8: return 3
        case .int16: return 5
        case .int32: return 6
        case .int64: return 7
        case .bool: return 9
        case .float16: return 10
        case .float64: return 11
        case .bfloat16: return 16
        }
    }
}
