import BNConvCore
import BNConvModel
import BNConvInterop

/// Depthwise convolution on channels-last values, computed directly (no GEMM): output channel
/// `c * multiplier + m` is input channel `c` convolved with kernel `hwcm[..., c, m]`. Parallel over
/// output rows.
struct DepthwiseKernel: EngineKernel {
    /// Attributes.
    let attributes: Convolution
    /// The kernel as `(kd, kh, kw, C * M)`: for every tap, one weight per output channel.
    let kernel: KernelWeights
    /// Window size, three entries.
    let window: [Int]
    /// Input channels.
    let channels: Int
    /// Depth multiplier.
    let multiplier: Int
    /// Bias per output channel (nil inside a SeparableConv).
    let bias: [Float]?
    /// The activation applied after the bias (linear inside a SeparableConv).
    let activation: Activation

    /// Prepares the depthwise kernel stored as `role` (`hwcm`, or ONNX `oihw` with one input per group);
    /// `separable` drops the bias and activation, which belong to the pointwise step; `streamsWeights` only plans the kernel.
    init(node: Node, attributes: Convolution, role: WeightRole, separable: Bool, streamsWeights: Bool = false) throws {
        self.attributes = attributes
        let weights = try KernelWeights(node, role, as: .hwcm, streamed: streamsWeights && KernelWeights.streams(node, role))
        let shape = weights.shape
        let r = attributes.rank
        let fromONNX = node.weight(role)?.layout == .oihw
        let m = fromONNX ? max(attributes.depthMultiplier, 1) : (shape.count == r + 2 ? shape[r + 1] : 0)
        let total = shape.count == r + 2 ? shape[r] * shape[r + 1] : 0
        guard shape.count == r + 2, m > 0, total % m == 0 else {
            throw EngineError.weightShape(node: node.name, role: role, expected: attributes.kernelSize + [-1, attributes.depthMultiplier], got: shape)
        }
        kernel = weights
        window = SpatialShape.pad3(Array(shape[0..<r]), fill: 1)
        multiplier = m
        channels = total / m
        bias = !separable && attributes.useBias ? try PreparedWeights.vector(node, .bias, count: total) : nil
        activation = separable ? .linear : attributes.activation
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsLast: x.shape)
        guard xs.c == channels else {
            throw EngineError.shapeMismatch("depthwise input channels", expected: [channels], got: [xs.c])
        }
        let axes = try ConvolutionKernel.windows(input: xs.spatial, window: window, strides: attributes.strides,
                                                 dilations: attributes.dilations, padding: attributes.padding,
                                                 rank: attributes.rank)
        let cm = channels * multiplier, m = multiplier
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: cm)
        let out = try context.allocate(os.shape(rank: x.shape.count))
        let (od, oh, ow) = (axes[0].output, axes[1].output, axes[2].output)
        let (id, ih, iw) = (xs.spatial[0], xs.spatial[1], xs.spatial[2])
        let (kd, kh, kw) = (window[0], window[1], window[2])
        let outRows = os.n * od * oh
        let zeros = [Float](repeating: 0, count: cm)
        try (bias ?? zeros).withUnsafeBufferPointer { b in
            try kernel.withFloats(context.pool) { w in
                context.parallel.ranges(outRows, costPerItem: ow * cm * kd * kh * kw) { range in
                    for row in range {
                        let yh = row % oh, t = row / oh
                        let yd = t % od, n = t / od
                        let d0 = yd * axes[0].stride - axes[0].padBefore
                        let h0 = yh * axes[1].stride - axes[1].padBefore
                        for yw in 0..<ow {
                            let o = out.pointer + (row * ow + yw) * cm
                            o.update(from: b.baseAddress!, count: cm)
                            let w0 = yw * axes[2].stride - axes[2].padBefore
                            for a in 0..<kd {
                                let dd = d0 + a * axes[0].dilation
                                if dd < 0 || dd >= id { continue }
                                for bb in 0..<kh {
                                    let hh = h0 + bb * axes[1].dilation
                                    if hh < 0 || hh >= ih { continue }
                                    for c in 0..<kw {
                                        let ww = w0 + c * axes[2].dilation
                                        if ww < 0 || ww >= iw { continue }
                                        let xp = x.pointer + (((n * id + dd) * ih + hh) * iw + ww) * channels
                                        let wp = w.baseAddress! + ((a * kh + bb) * kw + c) * cm
                                        if m == 1 {
                                            for j in 0..<cm { o[j] += xp[j] * wp[j] }
                                        } else {
                                            for ch in 0..<channels {
                                                let v = xp[ch]
                                                for k in 0..<m { o[ch * m + k] += v * wp[ch * m + k] }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if !activation.isLinear {
            ActivationFunction.apply(activation, input: out.pointer, output: out.pointer, count: out.count, lastAxis: cm, parallel: context.parallel)
        }
        return out
    }
}
