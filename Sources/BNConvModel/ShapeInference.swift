import BNConvCore

/// Output shapes of every op from its input shapes, as TensorFlow/Keras define them
/// (conv output sizes: `tf.nn.convolution`; transposed conv: Keras `deconv_output_length`).
///
/// Shapes carry the batch first; `nil` marks an unknown dimension. An op whose output shape cannot
/// be derived (an opaque op, an unknown input) yields `nil`, and so do its dependents.
public enum ShapeInference {
    /// Every value's shape, from the model inputs' declared shapes.
    public static func shapes(of model: Model) -> [String: [Int?]] {
        var shapes: [String: [Int?]] = [:]
        shapes.reserveCapacity(model.inputs.count + model.nodes.count)
        for input in model.inputs { shapes[input] = model.values[input]?.shape }
        for node in model.nodes {
            if case .input = node.op {
                for o in node.outputs where shapes[o] == nil { shapes[o] = model.values[o]?.shape }
                continue
            }
            let inputs = node.inputs.map { shapes[$0] }
            if let out = outputShape(of: node, inputs: inputs) {
                for o in node.outputs { shapes[o] = out }
            }
        }
        return shapes
    }

    /// The model with every inferable ``ValueInfo/shape`` filled in (declared shapes are kept).
    public static func annotate(_ model: consuming Model) -> Model {
        var model = model
        for (name, shape) in shapes(of: model) {
            var info = model.values[name] ?? ValueInfo(name: name)
            if info.shape == nil || info.shape!.contains(where: { $0 == nil }) && info.shape!.count == shape.count {
                info.shape = merge(info.shape, shape)
            }
            model.values[name] = info
        }
        return model
    }

    private static func merge(_ declared: [Int?]?, _ inferred: [Int?]) -> [Int?] {
        guard let declared, declared.count == inferred.count else { return inferred }
        return zip(declared, inferred).map { $0 ?? $1 }
    }

    /// The shape of every output of `node` when its inputs' shapes are known exactly (`inputs`,
    /// nil for an unknown one) and the elements of its constant inputs are (`values`, nil for a
    /// value computed at run time): the shapes a run of known input shapes gives, or nil where
    /// they are not determined without the data. The engine plans a run's constants with it.
    package static func exactOutputShapes(of node: Node, inputs: [[Int]?], values: [Tensor?]) -> [[Int]]? {
        if case .tensor(let op) = node.op {
            return TensorOpShapes.exactOutputShapes(op, node: node, inputs: inputs, values: values)
        }
        guard node.outputs.count == 1, inputs.allSatisfy({ $0 != nil }),
              let shape = outputShape(of: node, inputs: inputs.map { $0!.map { Optional($0) } }) else { return nil }
        var exact: [Int] = []
        for d in shape {
            guard let d, d >= 0 else { return nil }
            exact.append(d)
        }
        return [exact]
    }

    /// The shape of `node`'s (first) output given its inputs' shapes.
    public static func outputShape(of node: Node, inputs: [[Int?]?]) -> [Int?]? {
        if case .tensor(let op) = node.op {
            // An op-library op may read a constant first (Sub(mean, x)): its own rule decides.
            return TensorOpShapes.outputShape(op, node: node, inputs: inputs)
        }
        guard let x = inputs.first ?? nil else {
            return nil
        }
        switch node.op {
        case .input, .opaque:
            return nil
        case .tensor(let op):
            return TensorOpShapes.outputShape(op, node: node, inputs: inputs)
        case .conv(let c), .separableConv(let c):
            return convShape(x, c, channels: c.filters)
        case .depthwiseConv(let c):
            let inChannels = x[c.layout.channelAxis(rank: x.count)]
            return convShape(x, c, channels: inChannels.flatMap { checkedProduct([$0, c.depthMultiplier]) })
        case .convTranspose(let c):
            return transposedConvShape(x, c)
        case .dense(let d):
            return Array(x.dropLast()) + [d.units]
        case .batchNorm, .activation, .identity, .rescaling, .normalization, .softmax:
            return x
        case .pool(let p):
            let conv = Convolution(rank: p.poolSize.count, filters: 0, kernelSize: p.poolSize, strides: p.strides,
                                   padding: p.padding, layout: p.layout)
            return convShape(x, conv, channels: x[p.layout.channelAxis(rank: x.count)])
        case .globalPool(let g):
            let c = x[g.layout.channelAxis(rank: x.count)]
            if !g.keepDims { return [x[0], c] }
            var out = x
            for axis in g.layout.spatialAxes(rank: x.count) { out[axis] = 1 }
            return out
        case .elementwise:
            let shapes = inputs.compactMap { $0 }
            guard shapes.count == inputs.count, let rank = shapes.map(\.count).max() else { return nil }
            return (0..<rank).map { axis -> Int? in
                let dims = shapes.map { s -> Int? in
                    let i = axis - (rank - s.count)
                    return i >= 0 ? s[i] : 1
                }
                if dims.contains(where: { $0 == nil }) { return dims.compactMap { $0 }.first { $0 != 1 } }
                return dims.compactMap { $0 }.max()
            }
        case .concat(let axis):
            let shapes = inputs.compactMap { $0 }
            guard shapes.count == inputs.count, shapes.allSatisfy({ $0.count == x.count }) else { return nil }
            let a = Op.resolveAxis(axis, rank: x.count)
            guard (0..<x.count).contains(a) else { return nil }
            var out = x
            let sizes = shapes.map { $0[a] }
            out[a] = sizes.contains { $0 == nil } ? nil : checkedSum(sizes.map { $0! })
            return out
        case .flatten:
            guard !x.isEmpty else { return nil }
            let rest = x.dropFirst()
            return [x[0], rest.contains { $0 == nil } ? nil : checkedProduct(rest.map { $0! })]
        case .reshape(let target):
            guard !x.isEmpty else { return nil }
            let known = x.dropFirst().contains { $0 == nil } ? nil : checkedProduct(x.dropFirst().map { $0! })
            guard let fixed = checkedProduct(target.filter { $0 != -1 }) else { return nil }
            return [x[0]] + target.map { $0 == -1 ? known.map { $0 / max(fixed, 1) } : $0 }
        case .permute(let permutation):
            // The 1-based dims a file gives may name no axis of the value (a fuzzed Transpose did).
            guard !x.isEmpty, permutation.count == x.count - 1, permutation.allSatisfy({ $0 >= 1 && $0 < x.count }) else { return nil }
            return [x[0]] + permutation.map { x[$0] }
        case .pad(let padding, let layout):
            var out = x
            for (i, axis) in layout.spatialAxes(rank: x.count).enumerated() where i < padding.count {
                out[axis] = x[axis].flatMap { checkedSum([$0, padding[i].before, padding[i].after]) }
            }
            return out
        case .crop(let cropping, let layout):
            var out = x
            for (i, axis) in layout.spatialAxes(rank: x.count).enumerated() where i < cropping.count {
                out[axis] = x[axis].flatMap { n in
                    checkedSum([cropping[i].before, cropping[i].after]).flatMap { n.subtractingReportingOverflow($0).overflow ? nil : n - $0 }
                }
            }
            return out
        case .upsample(let size, _, let layout):
            var out = x
            for (i, axis) in layout.spatialAxes(rank: x.count).enumerated() where i < size.count {
                out[axis] = x[axis].flatMap { checkedProduct([$0, size[i]]) }
            }
            return out
        }
    }

    /// The product of `values`, or nil when it overflows (a damaged file's dimensions).
    package static func checkedProduct(_ values: [Int]) -> Int? {
        var p = 1
        for v in values {
            let (r, o) = p.multipliedReportingOverflow(by: v)
            if o { return nil }
            p = r
        }
        return p
    }

    /// The sum of `values`, or nil when it overflows.
    static func checkedSum(_ values: [Int]) -> Int? {
        var s = 0
        for v in values {
            let (r, o) = s.addingReportingOverflow(v)
            if o { return nil }
            s = r
        }
        return s
    }

    /// Spatial output size of a window op (conv, pool) along one axis.
    /// A stride below 1 (a damaged file; ``Model/validate()`` refuses it) gives 0 rather than a
    /// division by zero.
    public static func windowOutput(_ n: Int, kernel k: Int, stride s: Int, dilation d: Int, padding: Padding, axis i: Int) -> Int {
        guard s >= 1 else { return 0 }
        // Wrapping arithmetic: absurd sizes from a damaged file give a wrong size, never a trap.
        let effective = (k &- 1) &* d &+ 1
        switch padding {
        case .valid: return (n &- effective) / s &+ 1
        case .same, .causal: return (n &+ s &- 1) / s
        case .explicit(let pairs):
            let p = i < pairs.count ? pairs[i].before &+ pairs[i].after : 0
            return (n &+ p &- effective) / s &+ 1
        }
    }

    private static func convShape(_ x: [Int?], _ c: Convolution, channels: Int?) -> [Int?]? {
        guard x.count == c.rank + 2, c.hasWindowPerAxis else { return nil }
        var out = x
        for (i, axis) in c.layout.spatialAxes(rank: x.count).enumerated() {
            out[axis] = x[axis].map {
                windowOutput($0, kernel: c.kernelSize[i], stride: c.strides[i], dilation: c.dilations[i], padding: c.padding, axis: i)
            }
        }
        out[c.layout.channelAxis(rank: x.count)] = channels
        return out
    }

    /// Keras `deconv_output_length` (keras/src/utils/conv_utils.py); explicit pads as ONNX ConvTranspose.
    private static func transposedConvShape(_ x: [Int?], _ c: Convolution) -> [Int?]? {
        guard x.count == c.rank + 2, c.hasWindowPerAxis else { return nil }
        if case .explicit(let pairs) = c.padding, pairs.count < c.rank { return nil }
        if let op = c.outputPadding, op.count < c.rank { return nil }
        var out = x
        for (i, axis) in c.layout.spatialAxes(rank: x.count).enumerated() {
            out[axis] = x[axis].map { n in
                let k = (c.kernelSize[i] &- 1) &* c.dilations[i] &+ 1
                let s = c.strides[i]
                if let op = c.outputPadding?[i] {
                    let pad: Int
                    switch c.padding {
                    case .same: pad = k / 2
                    case .explicit(let pairs): return (n &- 1) &* s &+ k &- pairs[i].before &- pairs[i].after &+ op
                    default: pad = 0
                    }
                    return (n &- 1) &* s &+ k &- 2 &* pad &+ op
                }
                switch c.padding {
                case .same: return n &* s
                case .explicit(let pairs): return (n &- 1) &* s &+ k &- pairs[i].before &- pairs[i].after
                default: return n &* s &+ max(k &- s, 0)
                }
            }
        }
        out[c.layout.channelAxis(rank: x.count)] = c.filters
        return out
    }
}

extension Convolution {
    /// Whether kernel size, strides and dilations each give a value for every spatial axis.
    var hasWindowPerAxis: Bool { kernelSize.count >= rank && strides.count >= rank && dilations.count >= rank }
}
