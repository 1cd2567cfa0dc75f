import BNConvCore
import BNConvModel
import BNConvInterop
import BNConvOps

/// Maps a tf_keras `TFOpLambda` layer call (a TensorFlow function called on Keras tensors in
/// functional code: `x + 3`, `tf.nn.relu6(x)`, `tf.reshape(x, ...)`) onto the op library
/// (``Op/tensor(_:)``, ONNX semantics), as the GraphDef reader maps the TensorFlow ops behind
/// those functions (`GraphDefOpMapper`'s tables are reused through the raw op each function
/// runs). docs/formats.md, TFOpLambda calls.
///
/// The config's `function` names the TensorFlow API symbol (`__operators__.add`,
/// `math.multiply`, `nn.relu6`); the call's first argument and keyword arguments are in its
/// inbound node (``KerasCallArguments``). Operands keep their order (`3 - x` is `Sub(3, x)`); a
/// constant operand becomes a weight of the node (role ``TensorOp/operandRole(_:)``) that the
/// config, not the weights file, holds. A function or an argument outside the table leaves the
/// layer opaque, named with its function (`TFOpLambda 'math.cumsum'`).
enum KerasOpLambdaMapper {
    /// A mapped call: its op and the constants its op reads as weights.
    struct Mapped {
        /// The op.
        var op: Op
        /// The constant operands, each with the argument that holds it in the config.
        var constants: [(weight: Weight, site: Site)]
    }

    /// Where a constant operand is written in the inbound node.
    enum Site: Equatable {
        /// The whole first argument (one constant leaf, or a structure of them).
        case firstArgument
        /// The `k`-th leaf of the first argument (`["_CONSTANT_VALUE", -1, value, kwargs]`).
        case leaf(Int)
        /// A keyword argument (repeated in every leaf's kwargs).
        case keyword(String)
    }

    /// The class name tf_keras gives these layers.
    static let className = "TFOpLambda"

    /// The opaque type of a layer whose function or arguments bnconv does not map.
    static func opaqueType(function: String?) -> String {
        function.map { "\(className) '\($0)'" } ?? className
    }

    /// Functions that run one TensorFlow op on `(x, y)`, by API symbol, with that op's name (the
    /// ONNX form from ``GraphDefOpMapper/elementwiseTypes`` or ``GraphDefOpMapper/tensorFlowTypes``).
    static let binaryFunctions: [String: String] = [
        "__operators__.add": "AddV2", "math.add": "AddV2", "__operators__.sub": "Sub", "math.subtract": "Sub",
        "__operators__.mul": "Mul", "math.multiply": "Mul", "__operators__.truediv": "RealDiv", "math.truediv": "RealDiv",
        "math.divide": "RealDiv", "__operators__.floordiv": "FloorDiv", "math.floordiv": "FloorDiv",
        "math.maximum": "Maximum", "math.minimum": "Minimum", "math.pow": "Pow", "__operators__.pow": "Pow",
        "math.squared_difference": "SquaredDifference", "math.divide_no_nan": "DivNoNan",
    ]

    /// Functions that run one TensorFlow op on their first argument alone.
    static let unaryFunctions: [String: String] = [
        "nn.relu": "Relu", "math.sigmoid": "Sigmoid", "nn.sigmoid": "Sigmoid", "math.tanh": "Tanh", "nn.tanh": "Tanh",
        "math.exp": "Exp", "math.log": "Log", "math.sqrt": "Sqrt", "math.rsqrt": "Rsqrt", "math.square": "Square",
        "math.abs": "Abs", "math.negative": "Neg", "__operators__.neg": "Neg", "math.reciprocal": "Reciprocal",
        "math.erf": "Erf", "math.floor": "Floor", "math.ceil": "Ceil", "math.sign": "Sign", "math.softplus": "Softplus",
        "nn.softplus": "Softplus", "math.softsign": "Softsign", "nn.softsign": "Softsign", "nn.elu": "Elu", "nn.selu": "Selu",
        "identity": "Identity",
    ]

    /// Reductions with `(input_tensor, axis=None, keepdims=False)`, with their ONNX op.
    static let reductions: [String: String] = [
        "math.reduce_mean": "ReduceMean", "math.reduce_sum": "ReduceSum", "math.reduce_max": "ReduceMax",
        "math.reduce_min": "ReduceMin", "math.reduce_prod": "ReduceProd",
    ]

    /// The mapping of a TFOpLambda layer with `config` called with `call`; an unmapped function or
    /// argument gives an opaque op naming the function and no constants. `layer` names the layer
    /// in the constants' storage keys.
    static func map(config: JSONObject, call: KerasCallArguments, layer: String) -> Mapped {
        let function = config["function"]?.stringValue
        if let function, let mapped = mapped(function: function, call: call, dtype: constantType(config), layer: layer) {
            return mapped
        }
        return Mapped(op: .opaque(type: opaqueType(function: function)), constants: [])
    }

    /// The dtype of float constants: the layer's dtype when it is a plain float type, else float32
    /// (TensorFlow converts a Python number to the other operand's type, the layer's own under a
    /// float policy; the ONNX export stores constants in their value operand's type anyway).
    private static func constantType(_ config: JSONObject) -> DType {
        if let name = config["dtype"]?.stringValue, let dtype = DType(rawValue: name), dtype.isFloatingPoint { return dtype }
        return .float32
    }

    /// Builds the op of one call, or nil.
    private static func mapped(function: String, call: KerasCallArguments, dtype: DType, layer: String) -> Mapped? {
        var builder = Builder(call: call, dtype: dtype, layer: layer)
        guard let op = builder.op(function) else { return nil }
        return Mapped(op: op, constants: builder.constants)
    }

    /// Maps one call: operands resolved to the node's inputs or to constant weights.
    private struct Builder {
        let call: KerasCallArguments
        let dtype: DType
        let layer: String
        var constants: [(weight: Weight, site: Site)] = []

        init(call: KerasCallArguments, dtype: DType, layer: String) {
            self.call = call
            self.dtype = dtype
            self.layer = layer
        }

        /// The op for `function`, or nil.
        mutating func op(_ function: String) -> Op? {
            if let raw = KerasOpLambdaMapper.binaryFunctions[function] {
                guard only(["y"]), let x = firstOperand(position: 0), let y = operand(keyword: "y", position: 1),
                      x != .weight(TensorOp.operandRole(0)) || y != .weight(TensorOp.operandRole(1)) else { return nil }
                return tensorFlowOp(raw, arguments: [x, y])
            }
            if let raw = KerasOpLambdaMapper.unaryFunctions[function] {
                guard only([]), let x = tensor(first: 0) else { return nil }
                return tensorFlowOp(raw, arguments: [.value(x)])
            }
            if let type = KerasOpLambdaMapper.reductions[function] {
                guard only(["axis", "keepdims"]), let x = tensor(first: 0), let keep = bool("keepdims", default: false) else { return nil }
                var arguments: [TensorOpArgument] = [.value(x)]
                if let axes = integers("axis") {
                    arguments.append(constant(int64: axes, shape: [axes.count], site: .keyword("axis"), position: 1))
                } else if !isNone("axis") {
                    return nil
                }
                return .tensor(TensorOp(type: type, opset: 18, attributes: ["keepdims": .int(keep ? 1 : 0)], arguments: arguments))
            }
            switch function {
            case "nn.relu6":
                guard only([]), let x = tensor(first: 0) else { return nil }
                return .tensor(TensorOp(type: "Clip", opset: 6, attributes: ["min": .float(0), "max": .float(6)], arguments: [.value(x)]))
            case "nn.silu", "nn.swish":
                // x * sigmoid(beta * x), beta 1 by default: the model's swish activation.
                guard only(["beta"]), tensor(first: 0) != nil, number("beta", default: 1) == 1 else { return nil }
                return .activation(.swish)
            case "nn.leaky_relu":
                guard only(["alpha"]), let x = tensor(first: 0), let alpha = number("alpha", default: 0.2) else { return nil }
                return .tensor(TensorOp(type: "LeakyRelu", opset: 6, attributes: ["alpha": .float(alpha)], arguments: [.value(x)]))
            case "nn.gelu":
                guard only(["approximate"]), let x = tensor(first: 0), let approximate = bool("approximate", default: false) else { return nil }
                return .tensor(TensorOp(type: "Gelu", opset: 20, attributes: ["approximate": .string(approximate ? "tanh" : "none")],
                                        arguments: [.value(x)]))
            case "nn.softmax", "nn.log_softmax", "math.log_softmax":
                guard only(["axis"]), let x = tensor(first: 0) else { return nil }
                let axis = isNone("axis") ? -1 : integers("axis").flatMap { $0.count == 1 ? $0[0] : nil }
                guard let axis else { return nil }
                return .tensor(TensorOp(type: function == "nn.softmax" ? "Softmax" : "LogSoftmax", opset: 13, attributes: ["axis": .int(axis)],
                                        arguments: [.value(x)]))
            case "clip_by_value":
                guard only(["clip_value_min", "clip_value_max"]), let x = tensor(first: 0),
                      let low = number("clip_value_min", default: nil), let high = number("clip_value_max", default: nil) else { return nil }
                return .tensor(TensorOp(type: "Clip", opset: 6, attributes: ["min": .float(low), "max": .float(high)], arguments: [.value(x)]))
            case "reshape":
                guard only(["shape"]), let x = tensor(first: 0), let shape = integers("shape") else { return nil }
                // TensorFlow's 0 is a dimension of size 0, not "copy the input's" as in ONNX.
                return .tensor(TensorOp(type: "Reshape", opset: 14, attributes: ["allowzero": .int(1)],
                                        arguments: [.value(x), constant(int64: shape, shape: [shape.count], site: .keyword("shape"), position: 1)]))
            case "concat":
                guard only(["axis"]), !call.firstIsLeaf, !call.first.isEmpty,
                      let axis = integers("axis").flatMap({ $0.count == 1 ? $0[0] : nil }) else { return nil }
                var arguments: [TensorOpArgument] = []
                for k in call.first.indices {
                    guard let a = operand(first: k, position: k) else { return nil }
                    arguments.append(a)
                }
                guard arguments.contains(where: { if case .value = $0 { return true } else { return false } }) else { return nil }
                return .tensor(TensorOp(type: "Concat", opset: 13, attributes: ["axis": .int(axis)], arguments: arguments))
            case "transpose", "compat.v1.transpose":
                guard only(["perm", "conjugate"]), let x = tensor(first: 0), bool("conjugate", default: false) == false else { return nil }
                var attributes: [String: OpAttribute] = [:]
                if let perm = integers("perm") { attributes["perm"] = .ints(perm) } else if !isNone("perm") { return nil }
                return .tensor(TensorOp(type: "Transpose", opset: 13, attributes: attributes, arguments: [.value(x)]))
            case "expand_dims":
                guard only(["axis"]), let x = tensor(first: 0), let axis = integers("axis"), axis.count == 1 else { return nil }
                return .tensor(TensorOp(type: "Unsqueeze", opset: 13,
                                        arguments: [.value(x), constant(int64: axis, shape: [1], site: .keyword("axis"), position: 1)]))
            case "squeeze", "compat.v1.squeeze":
                // tf.squeeze is compat.v1.squeeze, whose deprecated `squeeze_dims` must be unused.
                guard only(["axis", "squeeze_dims"]), isNone("squeeze_dims"), let x = tensor(first: 0) else { return nil }
                var arguments: [TensorOpArgument] = [.value(x)]
                if let axes = integers("axis") {
                    arguments.append(constant(int64: axes, shape: [axes.count], site: .keyword("axis"), position: 1))
                } else if !isNone("axis") {
                    return nil
                }
                return .tensor(TensorOp(type: "Squeeze", opset: 13, arguments: arguments))
            default:
                return nil
            }
        }

        /// The op-library op that runs TensorFlow op `raw`, as the GraphDef reader maps it.
        private func tensorFlowOp(_ raw: String, arguments: [TensorOpArgument]) -> Op? {
            if raw == "Identity" { return .tensor(TensorOp(type: "Identity", opset: 14, arguments: arguments)) }
            if let type = GraphDefOpMapper.elementwiseTypes[raw] {
                return .tensor(TensorOp(type: type, opset: 14, arguments: arguments))
            }
            if let type = GraphDefOpMapper.tensorFlowTypes[raw] {
                return .tensor(TensorOp(type: type, opset: 18, arguments: arguments))
            }
            return nil
        }

        /// Whether the keyword arguments are among `allowed` (and `name`, which names the op only).
        private func only(_ allowed: Set<String>) -> Bool {
            call.keywords.allSatisfy { allowed.contains($0.key) || $0.key == "name" }
        }

        /// The node input of the first argument's `k`-th leaf when it is a tensor.
        private func tensor(first k: Int) -> Int? {
            guard call.firstIsLeaf, k < call.first.count, case .tensor(let i) = call.first[k] else { return nil }
            return i
        }

        /// The whole first argument (a tensor, or a constant) as the operand at ONNX input `position`.
        private mutating func firstOperand(position: Int) -> TensorOpArgument? {
            if call.firstIsLeaf, call.first.count == 1, case .tensor(let i) = call.first[0] { return .value(i) }
            guard let json = call.firstConstant else { return nil }
            return constant(json, site: .firstArgument, position: position)
        }

        /// Leaf `k` of the first argument as the operand at ONNX input `position`.
        private mutating func operand(first k: Int, position: Int) -> TensorOpArgument? {
            guard k < call.first.count else { return nil }
            switch call.first[k] {
            case .tensor(let i): return .value(i)
            case .constant(let json): return constant(json, site: .leaf(k), position: position)
            case .structure: return nil
            }
        }

        /// Keyword argument `key` as the operand at ONNX input `position`.
        private mutating func operand(keyword key: String, position: Int) -> TensorOpArgument? {
            switch call[key] {
            case .tensor(let i)?: return .value(i)
            case .constant(let json)?: return constant(json, site: .keyword(key), position: position)
            default: return nil
            }
        }

        /// A float constant from its JSON (a number or nested lists of numbers), as a weight.
        private mutating func constant(_ json: JSONValue, site: Site, position: Int) -> TensorOpArgument? {
            guard let (shape, values) = KerasOpLambdaMapper.numbers(json) else { return nil }
            return add(Tensor(shape: shape, doubles: values, dtype: dtype), site: site, position: position)
        }

        /// An int64 constant (axes, a shape) as a weight.
        private mutating func constant(int64 values: [Int], shape: [Int], site: Site, position: Int) -> TensorOpArgument {
            add(Tensor(shape: shape, doubles: values.map(Double.init), dtype: .int64), site: site, position: position)
        }

        private mutating func add(_ tensor: Tensor, site: Site, position: Int) -> TensorOpArgument {
            let role = TensorOp.operandRole(position)
            let name: String
            switch site {
            case .firstArgument: name = "first argument"
            case .leaf(let k): name = "argument \(k)"
            case .keyword(let key): name = key
            }
            constants.append((Weight(role: role, tensor: tensor, layout: .vector, storageKey: "model_config: \(layer): \(name)"), site))
            return .weight(role)
        }

        /// Keyword `key` as integers: an int or a list of ints; nil when absent, `None` or anything else.
        private func integers(_ key: String) -> [Int]? {
            guard case .constant(let json)? = call[key] else { return nil }
            if let i = json.intValue { return [i] }
            guard let items = json.arrayValue else { return nil }
            let ints = items.compactMap(\.intValue)
            return ints.count == items.count ? ints : nil
        }

        /// Whether keyword `key` is absent or `None`.
        private func isNone(_ key: String) -> Bool {
            guard let argument = call[key] else { return true }
            return argument == .constant(.null)
        }

        /// Keyword `key` as a bool (`default` when absent or `None`); nil for anything else.
        private func bool(_ key: String, default value: Bool) -> Bool? {
            if isNone(key) { return value }
            guard case .constant(let json)? = call[key] else { return nil }
            return json.boolValue
        }

        /// Keyword `key` as one number (`default` when absent or `None`); nil for anything else.
        private func number(_ key: String, default value: Double?) -> Double? {
            if isNone(key) { return value }
            guard case .constant(let json)? = call[key], let (shape, values) = KerasOpLambdaMapper.numbers(json),
                  shape.isEmpty else { return nil }
            return values[0]
        }
    }

    /// The shape and values (row-major) of a JSON number or rectangular nested list of numbers;
    /// nil for anything else (booleans, strings, ragged lists, more than 2^20 values).
    static func numbers(_ json: JSONValue) -> (shape: [Int], values: [Double])? {
        if let d = json.doubleValue { return ([], [d]) }
        guard let items = json.arrayValue else { return nil }
        var shape: [Int]? = nil
        var values: [Double] = []
        for item in items {
            guard let (s, v) = numbers(item) else { return nil }
            if let shape, shape != s { return nil }
            shape = s
            values += v
            if values.count > 1 << 20 { return nil }
        }
        return ([items.count] + (shape ?? []), values)
    }
}
