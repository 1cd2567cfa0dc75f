import BNConvCore
import BNConvModel

/// The float64 reference of a fold check (``FoldCheck``): the original layers a fold touched (the
/// conv, depthwise, separable, transposed conv or dense layer, what stands between it and the
/// BatchNorm, and the BatchNorm in inference mode) computed in Double from their definitions, on
/// the same inputs as the engine's float32 runs.
///
/// It shares no code with the engine's float32 kernels or with the fold: each op is written out
/// from the frameworks' definitions (``Float64Convolution``, ``Float64Window``, ``Float64BatchNorm``,
/// ``Float64Activation``), weights are read exactly from the model, and only op-library nodes go
/// through the op library (in float64). It is the truth both float32 computations, the original
/// layers and the folded ones, are measured against. It computes a chain of
/// ``Op/identity``, ``Op/flatten``, ``Op/reshape(targetShape:)``, ``Op/batchNorm(_:)``,
/// ``Op/activation(_:)``, ``Op/conv(_:)``, ``Op/depthwiseConv(_:)``, ``Op/separableConv(_:)``,
/// ``Op/convTranspose(_:)``, ``Op/dense(_:)`` and ``Op/tensor(_:)`` nodes; anything else, or more work than
/// its ``Float64Budget``, throws ``Unsupported`` and the check falls back to comparing the two
/// float32 runs.
enum Float64Reference {
    /// Why the reference cannot compute a model: an op or a weight form it lacks, or a size beyond
    /// its budget.
    struct Unsupported: Error, CustomStringConvertible {
        /// What it lacks.
        let description: String
        /// Says what it lacks.
        init(_ description: String) { self.description = description }
    }

    /// What an evaluation computes.
    enum Mode {
        /// The layers' outputs.
        case values
        /// Per output element, a bound `M` on the magnitudes float32 rounds while computing it
        /// (``roundingScale(_:inputs:budget:)``).
        case magnitudes
    }

    /// `model`'s outputs for `inputs` (one tensor per model input, rounded to the input's declared
    /// float type first), computed in Double; nodes run in the model's order.
    static func run(_ model: Model, inputs: [Tensor], budget: Float64Budget = Float64Budget()) throws -> [Float64Tensor] {
        try evaluate(model, inputs: inputs, mode: .values, budget: budget).outputs
    }

    /// How far float32 rounding alone can move the layers' outputs: per output element a magnitude
    /// `M`, and a count `n` of roundings along the way, such that any float32 computation of the
    /// same layers (any summation order) lands within `n * 2^-24 * M` of the exact result, to first
    /// order. `M` is the layers evaluated on absolute values (`|x|`, `|W|`, `|b|`; a BN as
    /// `(|x| + |mean|) / sqrt(variance + epsilon) * |gamma| + |beta|`; an activation scaled by its
    /// slope), the bound of a sum of products `|fl(sum x w) - sum x w| <= n u sum |x| |w|`
    /// (Higham, Accuracy and Stability of Numerical Algorithms, 2002, 3.1) carried through the chain.
    static func roundingScale(_ model: Model, inputs: [Tensor], budget: Float64Budget = Float64Budget()) throws
        -> (magnitudes: [Float64Tensor], roundings: Int) {
        let (magnitudes, roundings) = try evaluate(model, inputs: inputs, mode: .magnitudes, budget: budget)
        return (magnitudes, roundings)
    }

    /// Runs `model` in `mode`: its outputs, and the roundings counted along the longest path.
    private static func evaluate(_ model: Model, inputs: [Tensor], mode: Mode, budget: Float64Budget) throws
        -> (outputs: [Float64Tensor], roundings: Int) {
        guard inputs.count == model.inputs.count else {
            throw Float64Reference.Unsupported("\(inputs.count) inputs for a model of \(model.inputs.count)")
        }
        var evaluation = Evaluation(mode: mode, budget: budget)
        var values: [String: Float64Tensor] = [:]
        for (name, tensor) in zip(model.inputs, inputs) {
            // An input declared in another float type is rounded to it first, as the engine feeds it
            // (a float16 model's input holds float16 values).
            let declared = model.values[name]?.dtype ?? .float32
            let loaded = try tensor.materialized()
            let fed = declared.isFloatingPoint && declared != loaded.dtype ? loaded.converted(to: declared) : loaded
            let x = fed.doubles()
            values[name] = Float64Tensor(shape: fed.shape, values: mode == .magnitudes ? x.map(abs) : x)
        }
        for node in model.nodes {
            if case .input = node.op { continue }
            let operands = try node.inputs.map { name -> Float64Tensor in
                guard let v = values[name] else { throw Unsupported("\(node.name) reads '\(name)', which nothing before it wrote") }
                return v
            }
            guard node.outputs.count == 1 else { throw Unsupported("\(node.name) writes \(node.outputs.count) values") }
            values[node.outputs[0]] = try evaluation.node(node, operands)
        }
        let outputs = try model.outputs.map { name in
            guard let v = values[name] else { throw Unsupported("nothing wrote the output '\(name)'") }
            return v
        }
        return (outputs, evaluation.roundings)
    }

    /// One evaluation in progress: its mode, what it may still spend, and the roundings so far.
    private struct Evaluation {
        let mode: Mode
        var budget: Float64Budget
        /// Roundings float32 makes along the chain (the terms of each sum, plus a few per op).
        var roundings = 0

        init(mode: Mode, budget: Float64Budget) {
            self.mode = mode
            self.budget = budget
        }

        private var absolute: Bool { mode == .magnitudes }

        /// One node's output.
        mutating func node(_ node: Node, _ inputs: [Float64Tensor]) throws -> Float64Tensor {
            if case .tensor(let op) = node.op {
                roundings += 1
                return try Float64TensorOp.run(node, op, inputs, magnitudes: absolute)
            }
            guard inputs.count == 1, let x = inputs.first, !x.shape.isEmpty else {
                throw Unsupported("\(node.name) (\(node.opName)) reads \(inputs.count) values")
            }
            switch node.op {
            case .identity:
                return x
            case .flatten:
                return try x.reshaped([x.shape[0], x.shape.dropFirst().reduce(1, *)])
            case .reshape(let target):
                let rest = x.shape.dropFirst().reduce(1, *), known = target.filter { $0 != -1 }.reduce(1, *)
                guard known > 0 else { throw Unsupported("\(node.name) reshapes to \(target)") }
                return try x.reshaped([x.shape[0]] + target.map { $0 == -1 ? rest / known : $0 })
            case .batchNorm(let bn):
                roundings += 4
                return try Float64BatchNorm.apply(node, bn, x, magnitudes: absolute)
            case .activation(let a):
                return activation(a, x)
            case .dense(let d):
                return try dense(node, d, x)
            case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c):
                return try convolution(node, c, x)
            default:
                throw Unsupported("\(node.name) (\(node.opName)) is an op the float64 reference does not compute")
            }
        }

        /// `activation` applied to `x` (in magnitude mode: the bound it carries on).
        private mutating func activation(_ activation: Activation, _ x: Float64Tensor) -> Float64Tensor {
            guard !activation.isLinear else { return x }
            roundings += 2
            let values = absolute ? Float64Activation.magnitudes(activation, x.values)
                : Float64Activation.apply(activation, x.values, lastAxis: x.shape.last!)
            return Float64Tensor(shape: x.shape, values: values)
        }

        /// A dense layer on the last axis: `y[r, o] = b[o] + sum_i x[r, i] * w[i, o]`, then its activation.
        private mutating func dense(_ node: Node, _ d: Dense, _ x: Float64Tensor) throws -> Float64Tensor {
            let w = try Float64Kernel.dense(node, .kernel, absolute: absolute)
            let (inputs, units) = (w.shape[0], w.shape[1])
            guard x.shape.last == inputs else { throw Unsupported("\(node.name)'s kernel \(w.shape) cannot read \(x.shape)") }
            let rows = x.count / max(inputs, 1)
            try budget.spend(values: [rows, units], multiplyAdds: [rows, inputs, units])
            roundings += inputs + 1
            let bias = d.useBias ? try Float64Kernel.vector(node, .bias, count: units, absolute: absolute) : nil
            var y = [Double](repeating: 0, count: rows * units)
            for r in 0..<rows {
                for o in 0..<units { y[r * units + o] = bias?[o] ?? 0 }
                for i in 0..<inputs {
                    let v = x.values[r * inputs + i]
                    for o in 0..<units { y[r * units + o] += v * w.values[i * units + o] }
                }
            }
            return activation(d.activation, Float64Tensor(shape: Array(x.shape.dropLast()) + [units], values: y))
        }

        /// A convolution of any kind, on a value in `c.layout`: moved to channels-last, computed, moved
        /// back, then its activation (a softmax normalizes the last axis of the value as laid out, as
        /// Keras does).
        private mutating func convolution(_ node: Node, _ c: Convolution, _ x: Float64Tensor) throws -> Float64Tensor {
            let r = c.rank
            guard x.shape.count == r + 2, c.kernelSize.count >= r, c.strides.count >= r, c.dilations.count >= r else {
                throw Unsupported("\(node.name) is a \(r)-D convolution of a rank-\(x.shape.count) value")
            }
            let toLast = [0] + Array(2..<(r + 2)) + [1], toFirst = [0, r + 1] + Array(1...r)
            let input = c.layout == .channelsFirst ? x.permuted(toLast) : x
            let spatial = Array(input.shape[1...r])
            func forwardWindows() throws -> [Float64Window] {
                try (0..<r).map { try Float64Window(forward: spatial[$0], kernel: c.kernelSize[$0], stride: c.strides[$0],
                                                    dilation: c.dilations[$0], padding: c.padding, axis: $0) }
            }
            let taps = c.kernelSize.prefix(r).reduce(1, *)
            let channels = input.shape[r + 1]
            let abs = absolute
            var y: Float64Tensor
            switch node.op {
            case .conv:
                y = try Float64Kernel.withForward(node, .kernel, spatialRank: r, absolute: abs) { w in
                    let bias = c.useBias ? try Float64Kernel.vector(node, .bias, count: w.shape[r + 1], absolute: abs) : nil
                    roundings += taps * w.shape[r] + 1
                    return try Float64Convolution.forward(input, kernel: w, groups: c.groups, windows: try forwardWindows(), bias: bias, budget: &budget)
                }
            case .depthwiseConv:
                y = try Float64Kernel.withDepthwise(node, .kernel, spatialRank: r, absolute: abs) { w in
                    let bias = c.useBias ? try Float64Kernel.vector(node, .bias, count: w.shape[r + 1], absolute: abs) : nil
                    roundings += taps + 1
                    return try Float64Convolution.forward(input, kernel: w, groups: channels, windows: try forwardWindows(), bias: bias, budget: &budget)
                }
            case .separableConv:
                // The depthwise step (no bias), then a 1x1 pointwise convolution with the layer's bias.
                let between = try Float64Kernel.withDepthwise(node, .depthwiseKernel, spatialRank: r, absolute: abs) { dw in
                    try Float64Convolution.forward(input, kernel: dw, groups: channels, windows: try forwardWindows(), bias: nil, budget: &budget)
                }
                y = try Float64Kernel.withForward(node, .pointwiseKernel, spatialRank: r, absolute: abs) { pw in
                    let bias = c.useBias ? try Float64Kernel.vector(node, .bias, count: pw.shape[r + 1], absolute: abs) : nil
                    let unit = (0..<r).map { Float64Window(unit: between.shape[1 + $0]) }
                    roundings += taps + pw.shape[r] + 1
                    return try Float64Convolution.forward(between, kernel: pw, groups: 1, windows: unit, bias: bias, budget: &budget)
                }
            case .convTranspose:
                let windows = try (0..<r).map { a in
                    try Float64Window(transposed: spatial[a], kernel: c.kernelSize[a], stride: c.strides[a], dilation: c.dilations[a],
                                      padding: c.padding, outputPadding: c.outputPadding.flatMap { a < $0.count ? $0[a] : nil }, axis: a)
                }
                y = try Float64Kernel.withTransposed(node, .kernel, spatialRank: r, absolute: abs) { w in
                    let bias = c.useBias ? try Float64Kernel.vector(node, .bias, count: w.shape[r + 1] * c.groups, absolute: abs) : nil
                    roundings += taps * (channels / max(c.groups, 1)) + 1
                    return try Float64Convolution.transposed(input, kernel: w, groups: c.groups, windows: windows, bias: bias, budget: &budget)
                }
            default:
                throw Unsupported("\(node.name) is not a convolution")
            }
            if c.layout == .channelsFirst { y = y.permuted(toFirst) }
            return activation(c.activation, y)
        }
    }
}
