/// Output shapes of the op-library ops whose output has the shape of their (broadcast) operands:
/// the element-wise math, comparisons, activations, casts and softmaxes. Other ops (reshapes,
/// slices, reductions) are left unknown here; the engine works their shapes out when it runs.
package enum TensorOpShapes {
    /// ONNX op types (and the library's TensorFlow ops) that broadcast their operands element-wise.
    static let elementwise: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum", "Where", "Equal", "Greater", "Less",
        "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Not", "Relu", "LeakyRelu", "Elu", "Selu", "Celu",
        "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Softsign", "Clip", "Gelu", "Mish", "Sqrt",
        "Neg", "Abs", "Exp", "Log", "Reciprocal", "Floor", "Ceil", "Erf", "Sign", "Identity", "Cast", "CastLike",
        "PRelu", "ThresholdedRelu", "Softmax", "LogSoftmax", "Hardmax", "Dropout", "TF.Square", "TF.Rsqrt",
        "TF.SquaredDifference", "TF.DivNoNan", "TF.FloorDiv", "TF.BiasAdd", "TF.ZerosLike", "TF.OnesLike",
        "TF.IdentityN",
    ]

    /// Ops of ``elementwise`` that read no axis: with scalar constants only, they compute the same
    /// in any layout (a layout conversion passes them through like an activation).
    static let axisFree: Set<String> = elementwise.subtracting(["Softmax", "LogSoftmax", "Hardmax", "TF.BiasAdd", "PRelu"])

    /// Whether `node` (running `op`) computes the same in any layout: an axis-free element-wise
    /// op whose constant operands are scalars.
    package static func isLayoutFree(_ op: TensorOp, node: Node) -> Bool {
        axisFree.contains(op.type) && op.arguments.allSatisfy { argument in
            if case .weight(let role) = argument { return (node.weight(role)?.tensor.count ?? 2) <= 1 }
            return true
        }
    }

    /// The output shape of `node` running `op`, or nil when it is not an element-wise op or an
    /// operand's shape is unknown. `CastLike`'s second operand and `Clip`'s bounds only give types
    /// or scalars, so the first operand's shape stands.
    /// Ops whose output has their first operand's rank (sizes along some axes change): the rank,
    /// the batch and the axes the op keeps are known even when the sizes are not.
    static let rankPreserving: Set<String> = ["Resize", "Upsample", "Pad", "Slice", "DepthToSpace", "SpaceToDepth",
                                              "Tile", "MaxPool", "AveragePool", "LpPool", "TF.MirrorPad"]

    static func outputShape(_ op: TensorOp, node: Node, inputs: [[Int?]?]) -> [Int?]? {
        if op.type == "Resize" || op.type == "Upsample", let resized = resizedShape(op, node: node, inputs: inputs) {
            return resized
        }
        if rankPreserving.contains(op.type), case .value(let i)? = op.arguments.first, i < inputs.count, let x = inputs[i], !x.isEmpty {
            // Resize, Pad and Slice keep the channels of an image (axis 1 in ONNX's NCHW) when they
            // do not touch it; what they do to the other axes is left unknown here.
            return x.enumerated().map { $0.offset == 0 ? $0.element : nil }
        }
        if op.type == "Concat", case .int(let axis)? = op.attributes["axis"] {
            let shapes = inputs.compactMap { $0 }
            guard shapes.count == inputs.count, let r = shapes.first?.count, r > 0, shapes.allSatisfy({ $0.count == r }) else { return nil }
            let a = axis < 0 ? axis + r : axis
            guard a >= 0, a < r else { return nil }
            return (0..<r).map { d -> Int? in
                if d == a {
                    let sizes = shapes.map { $0[d] }
                    return sizes.contains { $0 == nil } ? nil : sizes.reduce(0) { $0 + $1! }
                }
                return shapes.compactMap { $0[d] }.first
            }
        }
        guard elementwise.contains(op.type) else { return nil }
        var operands: [[Int?]] = []
        for (position, argument) in op.arguments.enumerated() {
            if (op.type == "CastLike" || op.type == "Clip" || op.type == "Dropout") && position > 0 { break }
            switch argument {
            case .value(let i):
                guard i < inputs.count, let shape = inputs[i] else { return nil }
                operands.append(shape)
            case .weight(let role):
                guard let w = node.weight(role) else { return nil }
                operands.append(w.tensor.shape.map { $0 })
            case .absent:
                continue
            }
        }
        guard let rank = operands.map(\.count).max() else { return nil }
        return (0..<rank).map { axis -> Int? in
            let dims = operands.map { s -> Int? in
                let i = axis - (rank - s.count)
                return i >= 0 ? s[i] : 1
            }
            if let big = dims.compactMap({ $0 }).first(where: { $0 != 1 }) { return big }
            return dims.contains { $0 == nil } ? nil : 1
        }
    }

    /// A Resize's or Upsample's output shape when its scales or sizes are constants and its input's
    /// shape is known but for the batch: the lengths the op computes (``exactOutputShapes``), the
    /// batch left symbolic.
    private static func resizedShape(_ op: TensorOp, node: Node, inputs: [[Int?]?]) -> [Int?]? {
        guard case .value(let i)? = op.arguments.first, i < inputs.count, let x = inputs[i], !x.isEmpty,
              x.dropFirst().allSatisfy({ $0 != nil }) else { return nil }
        var exact: [[Int]?] = inputs.map { shape in shape.flatMap { s in s.allSatisfy { $0 != nil } ? s.map { $0! } : nil } }
        // The batch, when symbolic, as a stand-in length: the output keeps it symbolic.
        exact[i] = [x[0] ?? 1] + x.dropFirst().map { $0! }
        guard let shape = exactOutputShapes(op, node: node, inputs: exact, values: Array(repeating: nil, count: inputs.count))?.first,
              shape.count == x.count else { return nil }
        return [x[0] == nil ? nil : shape[0]] + shape.dropFirst().map { Optional($0) }
    }
}
