import BNConvCore
import BNConvModel
import BNConvInterop

/// Turns each node of a channels-first ``Model`` into ONNX nodes and initializers
/// (``ONNXGraphExporter``'s work). Value names are kept as ONNX tensor names; extra tensors
/// (a conv's pre-activation output, a pool before its Flatten) get fresh names.
struct ONNXExportEmitter {
    /// The emitted graph and its declared interface.
    struct Output {
        /// Nodes and initializers.
        var graph: ONNXExportGraph
        /// Graph inputs (batch dimension symbolic `N`).
        var inputs: [ONNXProto.ValueInfo]
        /// Graph outputs.
        var outputs: [ONNXProto.ValueInfo]
        /// The opset the graph needs.
        var opset: Int { graph.opset }
    }

    let model: Model
    let file: String
    /// The opset every node is written in (op-library nodes of older opsets are upgraded to it);
    /// a typed op that needs a newer one raises ``Output/opset`` above it, and the exporter emits again.
    let target: Int
    /// Element types, shapes and constants of the model's values.
    let facts: ONNXExportFacts
    /// The graph's float type: typed ops compute in it and their weights are stored in it.
    let dtype: DType
    /// The graph built so far.
    var graph: ONNXExportGraph
    /// Values some node reads (a Const nobody reads is not written).
    let consumed: Set<String>
    /// Values Consts give, written as initializers once the graph is built if a node reads them.
    var constantValues: [String: Tensor] = [:]

    /// The names the graph outputs must carry (the source model's), in order.
    private let outputNames: [String]

    /// Prepares to emit `model` (channels-first) in opset `target`; `outputNames` are the source
    /// model's output names.
    init(model: Model, outputNames: [String], file: String, target: Int = ONNXGraphExporter.baseOpset) {
        self.model = model
        self.outputNames = outputNames
        self.file = file
        self.target = target
        let first = model.inputs.first.flatMap { model.values[$0]?.dtype } ?? .float32
        dtype = first.isFloatingPoint ? first : .float32
        facts = ONNXExportFacts(model: model, floatType: dtype)
        var taken = Set(model.inputs + model.outputs)
        for n in model.nodes { taken.formUnion(n.inputs); taken.formUnion(n.outputs) }
        consumed = Set(model.nodes.flatMap(\.inputs))
        graph = ONNXExportGraph(baseOpset: target, taken: taken)
    }

    /// The lowest opset that holds every op-library node of `model` in its own form (at least
    /// `base`): where the emitter starts.
    static func opsetNeeded(by model: Model, base: Int) -> Int {
        model.nodes.reduce(base) { needed, node in
            guard case .tensor(let op) = node.op, !op.type.hasPrefix("TF."),
                  let form = ONNXOpsetHistory.formVersion(of: op.type, at: op.opset) else { return needed }
            return max(needed, form)
        }
    }

    /// Emits every node; throws a `CheckpointError` (`.unsupported`) naming the first node that
    /// has no ONNX form.
    mutating func emit() throws -> Output {
        for node in model.nodes {
            if case .input = node.op { continue }
            do {
                try emit(node)
            } catch let error as CheckpointError {
                throw error
            } catch {
                throw CheckpointError(.unsupported, file: file, place: node.name, problem: "\(error)")
            }
        }
        let read = Set(graph.nodes.flatMap(\.inputs))
        for (name, value) in constantValues.sorted(by: { $0.key < $1.key }) where read.contains(name) {
            graph.constant(named: name, value)
        }
        var outputs = model.outputs.map(valueInfo)
        // An output behind a boundary transpose (keepIOLayout) takes back the source's name; the
        // value that had it (the transpose's input) gets a fresh one.
        for (i, name) in outputNames.enumerated() where i < outputs.count && outputs[i].name != name {
            let produced = outputs[i].name
            if model.values[name] != nil || model.nodes.contains(where: { $0.outputs.contains(name) }) {
                graph.rename(name, to: graph.unique("\(name)__inner"))
            }
            graph.rename(produced, to: name)
            outputs[i].name = name
        }
        return Output(graph: graph, inputs: model.inputs.map(valueInfo), outputs: outputs)
    }

    // MARK: - Interface

    private func valueInfo(_ name: String) -> ONNXProto.ValueInfo {
        let shape = facts.shape(name) ?? model.values[name]?.shape
        let dims = shape.map { s in
            s.enumerated().map { i, d -> ONNXProto.Dimension in
                if i == 0 { return .param("N") }
                return d.map { .value(Int64($0)) } ?? .unknown
            }
        }
        // An op-library op's output has the type ONNX gives it (a TensorFlow Shape cast to int32, a
        // comparison's bool); a typed layer's, the model's.
        let fromTensorOp = model.nodes.contains { node in
            if case .tensor = node.op { return node.outputs.contains(name) } else { return false }
        }
        let type = (fromTensorOp ? facts.dtype(name) : nil) ?? model.values[name]?.dtype ?? dtype
        return ONNXProto.ValueInfo(name: name, elemType: ONNXTensorCodec.dataType(of: type), dims: dims)
    }

    // MARK: - Nodes

    func refuse(_ node: Node, _ why: String) -> CheckpointError {
        CheckpointError(.unsupported, file: file, place: node.name,
                        problem: "\(node.opName) cannot be exported to ONNX: \(why)")
    }

    private func weight(_ node: Node, _ role: WeightRole) throws -> Weight {
        guard let w = node.weight(role) else { throw refuse(node, "it has no '\(role)' weight") }
        return w
    }

    /// A weight stored in the graph's dtype (floating weights) as an initializer.
    private mutating func initializer(_ node: Node, _ suffix: String, _ tensor: Tensor) -> String {
        let t = tensor.dtype.isFloatingPoint ? tensor.converted(to: dtype) : tensor
        return graph.constant("\(node.name).\(suffix)", t)
    }

    private var shapes: [String: [Int?]] { facts.shapes }

    private func spatialShape(_ value: String, _ layout: DataLayout) -> [Int?] {
        guard let s = shapes[value], s.count >= 3 else { return [] }
        return layout == .channelsLast ? Array(s[1..<(s.count - 1)]) : Array(s[2...])
    }

    private mutating func emit(_ node: Node) throws {
        let x = node.inputs.first ?? ""
        let y = node.outputs.first ?? ""
        switch node.op {
        case .input:
            return
        case .conv(let c):
            let w = initializer(node, "weight", try ChannelsFirstWeights.convolution(try weight(node, .kernel), node: node.name))
            let b = try c.useBias ? initializer(node, "bias", weight(node, .bias).tensor) : nil
            let out = activationInput(node, c.activation, y)
            let (xcf, outcf) = channelsFirst(node, c.layout, rank: c.rank + 2, x, out)
            graph.add("Conv", name: node.name, inputs: [xcf, w] + (b.map { [$0] } ?? []), outputs: [outcf],
                      attributes: try windowAttributes(node, c, x, groups: c.groups))
            fromChannelsFirst(node, c.layout, rank: c.rank + 2, outcf, out)
            try activation(node, c.activation, out, y)
        case .depthwiseConv(let c):
            let kernel = try ChannelsFirstWeights.depthwise(try weight(node, .kernel), node: node.name)
            let w = initializer(node, "weight", kernel)
            let b = try c.useBias ? initializer(node, "bias", weight(node, .bias).tensor) : nil
            let groups = kernel.shape[0] / max(c.depthMultiplier, 1)
            let out = activationInput(node, c.activation, y)
            let (xcf, outcf) = channelsFirst(node, c.layout, rank: c.rank + 2, x, out)
            graph.add("Conv", name: node.name, inputs: [xcf, w] + (b.map { [$0] } ?? []), outputs: [outcf],
                      attributes: try windowAttributes(node, c, x, groups: groups))
            fromChannelsFirst(node, c.layout, rank: c.rank + 2, outcf, out)
            try activation(node, c.activation, out, y)
        case .separableConv(let c):
            let dk = try ChannelsFirstWeights.depthwise(try weight(node, .depthwiseKernel), node: node.name)
            let pk = try ChannelsFirstWeights.convolution(try weight(node, .pointwiseKernel), node: node.name)
            let dw = initializer(node, "depthwise.weight", dk)
            let pw = initializer(node, "pointwise.weight", pk)
            let b = try c.useBias ? initializer(node, "pointwise.bias", weight(node, .bias).tensor) : nil
            let out = activationInput(node, c.activation, y)
            let (xcf, outcf) = channelsFirst(node, c.layout, rank: c.rank + 2, x, out)
            let mid = graph.unique("\(y)__depthwise")
            graph.add("Conv", name: "\(node.name)/depthwise", inputs: [xcf, dw], outputs: [mid],
                      attributes: try windowAttributes(node, c, x, groups: dk.shape[0] / max(c.depthMultiplier, 1)))
            let ones = Array(repeating: 1, count: c.rank)
            graph.add("Conv", name: "\(node.name)/pointwise", inputs: [mid, pw] + (b.map { [$0] } ?? []), outputs: [outcf],
                      attributes: [ONNXExportGraph.ints("kernel_shape", ones), ONNXExportGraph.ints("strides", ones),
                                   ONNXExportGraph.ints("dilations", ones), ONNXExportGraph.int("group", 1),
                                   ONNXExportGraph.ints("pads", ones.map { _ in 0 } + ones.map { _ in 0 })])
            fromChannelsFirst(node, c.layout, rank: c.rank + 2, outcf, out)
            try activation(node, c.activation, out, y)
        case .convTranspose(let c):
            let kernel = try weight(node, .kernel)
            // A grouped one is exported only from ONNX's own (in, out/group, k...) layout.
            guard c.groups == 1 || kernel.layout == .iohw else { throw refuse(node, "grouped transposed convolutions are exported only from an iohw kernel") }
            let w = initializer(node, "weight", try ChannelsFirstWeights.transposedConvolution(kernel, node: node.name))
            let b = try c.useBias ? initializer(node, "bias", weight(node, .bias).tensor) : nil
            guard let (pads, outputPadding) = ONNXExportPadding.transposed(c) else {
                throw refuse(node, "causal padding has no transposed form")
            }
            var attributes = [ONNXExportGraph.ints("kernel_shape", c.kernelSize), ONNXExportGraph.ints("strides", c.strides),
                              ONNXExportGraph.ints("dilations", c.dilations), ONNXExportGraph.int("group", c.groups),
                              ONNXExportGraph.ints("pads", pads)]
            if outputPadding.contains(where: { $0 != 0 }) {
                attributes.append(ONNXExportGraph.ints("output_padding", outputPadding))
            }
            let out = activationInput(node, c.activation, y)
            let (xcf, outcf) = channelsFirst(node, c.layout, rank: c.rank + 2, x, out)
            graph.add("ConvTranspose", name: node.name, inputs: [xcf, w] + (b.map { [$0] } ?? []), outputs: [outcf],
                      attributes: attributes)
            fromChannelsFirst(node, c.layout, rank: c.rank + 2, outcf, out)
            try activation(node, c.activation, out, y)
        case .dense(let d):
            let k = try weight(node, .kernel)
            let out = activationInput(node, d.activation, y)
            let b = try d.useBias ? initializer(node, "bias", weight(node, .bias).tensor) : nil
            // Gemm takes a 2-D input only; MatMul (+ Add) any rank, so an input of unknown rank gets that.
            if shapes[x]?.count == 2 {
                let transB = k.layout == .oi
                let w = initializer(node, "weight", transB ? try ChannelsFirstWeights.denseOutIn(k, node: node.name)
                                                           : try ChannelsFirstWeights.denseInOut(k, node: node.name))
                graph.add("Gemm", name: node.name, inputs: [x, w] + (b.map { [$0] } ?? []), outputs: [out],
                          attributes: transB ? [ONNXExportGraph.int("transB", 1)] : [], since: 13)
            } else {
                let w = initializer(node, "weight", try ChannelsFirstWeights.denseInOut(k, node: node.name))
                if let b {
                    let product = graph.unique("\(y)__matmul")
                    graph.add("MatMul", name: node.name, inputs: [x, w], outputs: [product], since: 13)
                    graph.add("Add", name: "\(node.name)/bias", inputs: [product, b], outputs: [out], since: 14)
                } else {
                    graph.add("MatMul", name: node.name, inputs: [x, w], outputs: [out], since: 13)
                }
            }
            try activation(node, d.activation, out, y)
        case .batchNorm(let bn):
            try batchNorm(node, bn, x, y)
        case .activation(let a):
            try activation(node, a, x, y)
        case .softmax(let axis):
            graph.add("Softmax", name: node.name, inputs: [x], outputs: [y], attributes: [ONNXExportGraph.int("axis", axis)], since: 13)
        case .pool(let p):
            let ones = p.poolSize.map { _ in 1 }
            var attributes = [ONNXExportGraph.ints("kernel_shape", p.poolSize), ONNXExportGraph.ints("strides", p.strides),
                              try padAttribute(node, p.padding, x, p.layout, kernel: p.poolSize, strides: p.strides, dilations: ones)]
            if p.kind == .average { attributes.append(ONNXExportGraph.int("count_include_pad", 0)) }
            let (xcf, ycf) = channelsFirst(node, p.layout, rank: p.poolSize.count + 2, x, y)
            graph.add(p.kind == .max ? "MaxPool" : "AveragePool", name: node.name, inputs: [xcf], outputs: [ycf],
                      attributes: attributes, since: p.kind == .max ? 12 : 11)
            fromChannelsFirst(node, p.layout, rank: p.poolSize.count + 2, ycf, y)
        case .globalPool(let g):
            let type = g.kind == .max ? "GlobalMaxPool" : "GlobalAveragePool"
            var xcf = x
            let rank = shapes[x]?.count
            if g.layout == .channelsLast {
                guard let rank else { throw refuse(node, "it pools a channels-last value whose rank is unknown") }
                xcf = channelsFirst(node, g.layout, rank: rank, x, y).0
            }
            if g.keepDims {
                let ycf = g.layout == .channelsLast ? graph.unique("\(y)__nchw") : y
                graph.add(type, name: node.name, inputs: [xcf], outputs: [ycf])
                if let rank { fromChannelsFirst(node, g.layout, rank: rank, ycf, y) }
            } else {
                let pooled = graph.unique("\(y)__pooled")
                graph.add(type, name: node.name, inputs: [xcf], outputs: [pooled])
                graph.add("Flatten", name: "\(node.name)/flatten", inputs: [pooled], outputs: [y],
                          attributes: [ONNXExportGraph.int("axis", 1)], since: 13)
            }
        case .elementwise(let kind):
            try elementwise(node, kind, y)
        case .concat(let axis):
            graph.add("Concat", name: node.name, inputs: node.inputs, outputs: [y], attributes: [ONNXExportGraph.int("axis", axis)], since: 13)
        case .flatten:
            graph.add("Flatten", name: node.name, inputs: [x], outputs: [y], attributes: [ONNXExportGraph.int("axis", 1)], since: 13)
        case .reshape(let target):
            let shape = graph.int64s("\(node.name).shape", [0] + target)
            graph.add("Reshape", name: node.name, inputs: [x, shape], outputs: [y], since: 14)
        case .permute(let dims):
            graph.add("Transpose", name: node.name, inputs: [x], outputs: [y], attributes: [ONNXExportGraph.ints("perm", [0] + dims)], since: 13)
        case .pad(let padding, let layout):
            // Zero before and after the batch and the channel axis, wherever the layout puts it.
            let (head, tail) = layout == .channelsLast ? ([0], [0]) : ([0, 0], [])
            let pads = graph.int64s("\(node.name).pads", head + padding.map(\.before) + tail + head + padding.map(\.after) + tail)
            graph.add("Pad", name: node.name, inputs: [x, pads], outputs: [y], since: 13)
        case .identity where constantValues[x] != nil && !model.outputs.contains(y):
            // An identity of a Const is the Const (a float one in the graph's float type, as the
            // identity of a TensorFlow Cast between floats gives it).
            let value = constantValues[x]!
            constantValues[y] = value.dtype.isFloatingPoint && value.dtype != dtype ? value.converted(to: dtype) : value
        case .identity:
            // A float value of another type (a TensorFlow Cast between float types, from a float64
            // constant) is cast to the graph's.
            if let type = facts.dtype(x), type.isFloatingPoint, type != dtype {
                graph.add("Cast", name: node.name, inputs: [x], outputs: [y],
                          attributes: [ONNXExportGraph.int("to", ONNXExportAttributes.typeCode(dtype))], since: 13)
            } else {
                graph.add("Identity", name: node.name, inputs: [x], outputs: [y], since: 14)
            }
        case let .rescaling(scale, offset):
            // y = x * scale + offset, the vectors along the last axis (numpy broadcasting, as Keras).
            guard !scale.isEmpty else { throw refuse(node, "it has no scale") }
            let shape = scale.count == 1 ? [] : [scale.count]
            let scaled = offset.isEmpty ? y : graph.unique("\(y)__scaled")
            graph.add("Mul", name: node.name, inputs: [x, graph.constant("\(node.name).scale", Tensor(shape: shape, doubles: scale, dtype: dtype))],
                      outputs: [scaled], since: 14)
            if !offset.isEmpty {
                let offsetShape = offset.count == 1 ? [] : [offset.count]
                graph.add("Add", name: "\(node.name)/offset",
                          inputs: [scaled, graph.constant("\(node.name).offset", Tensor(shape: offsetShape, doubles: offset, dtype: dtype))],
                          outputs: [y], since: 14)
            }
        case .normalization(let axes):
            // Keras Normalization: (x - mean) / max(sqrt(variance), 1e-7), mean and variance over the kept axes.
            guard let rank = shapes[x]?.count, let dims = shapes[x] else { throw refuse(node, "its input's rank is unknown") }
            let kept = Set(axes.map { Op.resolveAxis($0, rank: rank) })
            let shape = dims.enumerated().map { kept.contains($0.offset) ? ($0.element ?? -1) : 1 }
            let mean = try weight(node, .mean).tensor, variance = try weight(node, .variance).tensor
            guard !shape.contains(-1), shape.reduce(1, *) == mean.count, mean.count == variance.count else {
                throw refuse(node, "its mean of \(mean.count) values does not fit axes \(axes) of shape \(dims)")
            }
            let std = try variance.materialized().doubles().map { max($0.squareRoot(), 1e-7) }
            let centered = graph.unique("\(y)__centered")
            graph.add("Sub", name: node.name, inputs: [x, graph.constant("\(node.name).mean", try mean.materialized().converted(to: dtype).reshaped(shape))],
                      outputs: [centered], since: 14)
            graph.add("Div", name: "\(node.name)/std", inputs: [centered, graph.constant("\(node.name).std", Tensor(shape: shape, doubles: std, dtype: dtype))],
                      outputs: [y], since: 14)
        case .tensor(let op):
            try tensorOp(node, op)
        case .opaque(let type):
            // A type naming what the layer runs ("TFOpLambda 'math.cumsum'") is already in the message.
            throw refuse(node, "bnconv has no ONNX form of " + (type.contains("'") ? "it" : "op '\(type)'") + " (it reads it as an opaque op)")
        case let .crop(cropping, layout):
            // Keras Cropping: the spatial axes without `before` cells at the start and `after` at the end.
            let rank = cropping.count + 2
            if let known = shapes[x]?.count, known != rank {
                throw refuse(node, "it crops \(cropping.count) axes of a value of rank \(known)")
            }
            let axes = layout.spatialAxes(rank: rank)
            let ends = cropping.map { $0.after == 0 ? Int.max : -$0.after }
            graph.add("Slice", name: node.name,
                      inputs: [x, graph.int64s("\(node.name).starts", cropping.map(\.before)), graph.int64s("\(node.name).ends", ends),
                               graph.int64s("\(node.name).axes", axes)],
                      outputs: [y], since: 13)
        case let .upsample(size, interpolation, layout):
            // Keras UpSampling: nearest repeats each cell (x_in = floor(x_out / f)); bilinear is
            // tf.image.resize with half-pixel centres, clamped at the borders.
            var attributes: [ONNXProto.Attribute]
            switch interpolation {
            case "nearest":
                attributes = [ONNXExportGraph.string("mode", "nearest"), ONNXExportGraph.string("coordinate_transformation_mode", "asymmetric"),
                              ONNXExportGraph.string("nearest_mode", "floor")]
            case "bilinear":
                attributes = [ONNXExportGraph.string("mode", "linear"), ONNXExportGraph.string("coordinate_transformation_mode", "half_pixel")]
            default:
                throw refuse(node, "interpolation '\(interpolation)' has no ONNX Resize form in bnconv")
            }
            let rank = size.count + 2
            let (xcf, ycf) = channelsFirst(node, layout, rank: rank, x, y)
            let scales = graph.constant("\(node.name).scales", Tensor(shape: [rank], doubles: [1, 1] + size.map(Double.init), dtype: .float32))
            graph.add("Resize", name: node.name, inputs: [xcf, "", scales], outputs: [ycf], attributes: attributes, since: 13)
            fromChannelsFirst(node, layout, rank: rank, ycf, y)
        }
    }

    /// A layer computing in `layout` on a rank-`rank` value, in ONNX's channels-first terms: its
    /// input (`x`, or `x` transposed to channels-first) and the name its ONNX op writes (`y`, or a
    /// fresh one that ``fromChannelsFirst(_:_:rank:_:_:)`` transposes back to `y`).
    private mutating func channelsFirst(_ node: Node, _ layout: DataLayout, rank: Int, _ x: String, _ y: String) -> (String, String) {
        guard layout == .channelsLast else { return (x, y) }
        let moved = graph.unique("\(x)__nchw")
        graph.add("Transpose", name: "\(node.name)/to_nchw", inputs: [x], outputs: [moved],
                  attributes: [ONNXExportGraph.ints("perm", [0] + LayoutPermutation.permuteDims(rank: rank, from: .channelsLast, to: .channelsFirst))],
                  since: 13)
        return (moved, graph.unique("\(y)__nchw"))
    }

    /// Transposes `ycf` (channels-first) back to `y` for a layer computing in `layout`.
    private mutating func fromChannelsFirst(_ node: Node, _ layout: DataLayout, rank: Int, _ ycf: String, _ y: String) {
        guard layout == .channelsLast, ycf != y else { return }
        graph.add("Transpose", name: "\(node.name)/to_nhwc", inputs: [ycf], outputs: [y],
                  attributes: [ONNXExportGraph.ints("perm", [0] + LayoutPermutation.permuteDims(rank: rank, from: .channelsFirst, to: .channelsLast))],
                  since: 13)
    }

    /// Conv attributes with explicit pads; `auto_pad = SAME_UPPER` (TensorFlow's SAME: the odd
    /// pixel at the end) when the input's spatial size is unknown.
    private func windowAttributes(_ node: Node, _ c: Convolution, _ x: String, groups: Int) throws -> [ONNXProto.Attribute] {
        [ONNXExportGraph.ints("kernel_shape", c.kernelSize), ONNXExportGraph.ints("strides", c.strides),
         ONNXExportGraph.ints("dilations", c.dilations), ONNXExportGraph.int("group", groups),
         try padAttribute(node, c.padding, x, c.layout, kernel: c.kernelSize, strides: c.strides, dilations: c.dilations)]
    }

    private func padAttribute(_ node: Node, _ padding: Padding, _ x: String, _ layout: DataLayout, kernel: [Int], strides: [Int],
                              dilations: [Int]) throws -> ONNXProto.Attribute {
        if let pads = ONNXExportPadding.window(padding, input: spatialShape(x, layout), kernel: kernel, strides: strides, dilations: dilations) {
            return ONNXExportGraph.ints("pads", pads)
        }
        guard padding == .same else { throw refuse(node, "its padding needs the input's spatial size, which is unknown") }
        return ONNXExportGraph.string("auto_pad", "SAME_UPPER")
    }

    private mutating func activationInput(_ node: Node, _ activation: Activation, _ y: String) -> String {
        activation.isLinear ? y : graph.unique("\(y)__preactivation")
    }

    private mutating func batchNorm(_ node: Node, _ bn: BatchNorm, _ x: String, _ y: String) throws {
        guard !bn.training else { throw refuse(node, "it runs in training mode (batch statistics)") }
        let rank = shapes[x]?.count ?? 2
        let axis = Op.resolveAxis(bn.axis, rank: rank)
        guard axis >= 1, axis < rank else { throw refuse(node, "axis \(bn.axis) is out of range for a rank-\(rank) tensor") }
        // ONNX BatchNormalization normalizes axis 1: move another channel axis there and back
        // (a BN left channels-last, e.g. on an NHWC input kept by --inputs-as-nhwc).
        var perm = Array(0..<rank)
        perm.remove(at: axis)
        perm.insert(axis, at: 1)
        let moved = axis != 1
        let bnIn = moved ? graph.unique("\(x)__channels_first") : x
        let bnOut = moved ? graph.unique("\(y)__channels_first") : y
        if moved {
            graph.add("Transpose", name: "\(node.name)/to_axis1", inputs: [x], outputs: [bnIn],
                      attributes: [ONNXExportGraph.ints("perm", perm)], since: 13)
        }
        let mean = try weight(node, .movingMean).tensor
        let channels = mean.count
        let gamma = bn.scale ? try weight(node, .gamma).tensor : Tensor(shape: [channels], doubles: Array(repeating: 1, count: channels), dtype: mean.dtype)
        let beta = bn.center ? try weight(node, .beta).tensor : Tensor(shape: [channels], doubles: Array(repeating: 0, count: channels), dtype: mean.dtype)
        let names = [initializer(node, "scale", gamma), initializer(node, "B", beta), initializer(node, "input_mean", mean),
                     initializer(node, "input_var", try weight(node, .movingVariance).tensor)]
        graph.add("BatchNormalization", name: node.name, inputs: [bnIn] + names, outputs: [bnOut],
                  attributes: [ONNXExportGraph.float("epsilon", bn.epsilon), ONNXExportGraph.float("momentum", bn.momentum),
                               ONNXExportGraph.int("training_mode", 0)], since: 15)
        if moved {
            graph.add("Transpose", name: "\(node.name)/from_axis1", inputs: [bnOut], outputs: [y],
                      attributes: [ONNXExportGraph.ints("perm", LayoutBoundary.inverse(perm))], since: 13)
        }
    }

    private mutating func elementwise(_ node: Node, _ kind: ElementwiseKind, _ y: String) throws {
        let inputs = node.inputs
        guard inputs.count >= 2 || kind == .average || kind == .maximum || kind == .minimum else {
            throw refuse(node, "it merges \(inputs.count) input(s)")
        }
        switch kind {
        case .maximum, .minimum, .average:
            let type = kind == .maximum ? "Max" : kind == .minimum ? "Min" : "Mean"
            graph.add(type, name: node.name, inputs: inputs, outputs: [y], since: 13)
        case .subtract:
            guard inputs.count == 2 else { throw refuse(node, "Subtract takes two inputs") }
            graph.add("Sub", name: node.name, inputs: inputs, outputs: [y], since: 14)
        case .add, .multiply:
            // Binary in ONNX: chain left to right.
            let type = kind == .add ? "Add" : "Mul"
            var acc = inputs[0]
            for i in 1..<inputs.count {
                let out = i == inputs.count - 1 ? y : graph.unique("\(y)__\(type.lowercased())\(i)")
                graph.add(type, name: i == 1 ? node.name : "\(node.name)/\(i)", inputs: [acc, inputs[i]], outputs: [out], since: 14)
                acc = out
            }
        }
    }

    /// `y = activation(x)`; `.linear` becomes an Identity unless `x == y` (fused into an op).
    private mutating func activation(_ node: Node, _ a: Activation, _ x: String, _ y: String) throws {
        if x == y { return }
        // A standalone activation node keeps its name; one fused into a conv/dense gets a suffix.
        let name2 = node.inputs.first == x ? node.name : "\(node.name)/activation"
        typealias G = ONNXExportGraph
        switch a {
        case .linear:
            graph.add("Identity", name: name2, inputs: [x], outputs: [y], since: 14)
        case let .relu(maxValue, threshold, slope):
            guard threshold == 0 else { throw refuse(node, "ReLU with a threshold has no ONNX op") }
            switch (maxValue, slope) {
            case (nil, 0):
                graph.add("Relu", name: name2, inputs: [x], outputs: [y], since: 14)
            case (nil, let s):
                graph.add("LeakyRelu", name: name2, inputs: [x], outputs: [y], attributes: [G.float("alpha", s)], since: 6)
            case (let m?, 0):
                try clip(node, name2, x, y, max: m)
            default:
                throw refuse(node, "ReLU with both max_value and negative_slope has no ONNX op")
            }
        case .relu6:
            try clip(node, name2, x, y, max: 6)
        case .leakyRelu(let alpha):
            graph.add("LeakyRelu", name: name2, inputs: [x], outputs: [y], attributes: [G.float("alpha", alpha)], since: 6)
        case .elu(let alpha):
            graph.add("Elu", name: name2, inputs: [x], outputs: [y], attributes: [G.float("alpha", alpha)], since: 6)
        case .sigmoid:
            graph.add("Sigmoid", name: name2, inputs: [x], outputs: [y], since: 13)
        case .tanh:
            graph.add("Tanh", name: name2, inputs: [x], outputs: [y], since: 13)
        case let .hardSigmoid(slope, offset):
            graph.add("HardSigmoid", name: name2, inputs: [x], outputs: [y],
                      attributes: [G.float("alpha", slope), G.float("beta", offset)], since: 6)
        case .hardSwish:
            graph.add("HardSwish", name: name2, inputs: [x], outputs: [y], since: 14)
        case .swish:
            let s = graph.unique("\(y)__sigmoid")
            graph.add("Sigmoid", name: "\(name2)/sigmoid", inputs: [x], outputs: [s], since: 13)
            graph.add("Mul", name: name2, inputs: [x, s], outputs: [y], since: 14)
        case .gelu(let approximate):
            graph.add("Gelu", name: name2, inputs: [x], outputs: [y],
                      attributes: [G.string("approximate", approximate ? "tanh" : "none")], since: 20)
        case .softmax:
            // As a layer activation: the channel axis (last in channels-last, 1 once channels-first).
            let rank = shapes[x]?.count ?? 2
            let layout = model.values[x]?.layout ?? model.values[y]?.layout
            let axis = rank >= 3 && layout == .channelsFirst ? 1 : -1
            graph.add("Softmax", name: name2, inputs: [x], outputs: [y], attributes: [G.int("axis", axis)], since: 13)
        case .softplus, .softsign, .exponential, .selu, .mish:
            throw refuse(node, "activation \(a) is not exported (bnconv cannot run it back from ONNX to verify it)")
        }
    }

    private mutating func clip(_ node: Node, _ name: String, _ x: String, _ y: String, max: Double) throws {
        let low = graph.scalar("\(node.name).clip_min", 0, dtype: dtype)
        let high = graph.scalar("\(node.name).clip_max", max, dtype: dtype)
        graph.add("Clip", name: name, inputs: [x, low, high], outputs: [y], since: 13)
    }
}
