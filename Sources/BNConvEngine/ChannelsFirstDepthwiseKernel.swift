import BNConvCore
import BNConvModel
import BNConvInterop

/// Depthwise convolution on channels-first values, computed directly one output plane at a time:
/// output channel `c * multiplier + m` is input channel `c` convolved with its own taps, then the
/// bias, activation and any fused BatchNorm/activation tail, while the plane is in cache.
struct ChannelsFirstDepthwiseKernel: FusableKernel {
    /// Attributes.
    let attributes: Convolution
    /// The taps per output channel, `(C * M, kd, kh, kw)` flattened.
    let kernel: [Float]
    /// Window size, three entries.
    let window: [Int]
    /// Input channels.
    let channels: Int
    /// Depth multiplier.
    let multiplier: Int
    /// Bias per output channel.
    let bias: [Float]?
    /// The activation applied after the bias.
    let activation: Activation
    /// The same taps, sixteen channels to a block, for narrow 2-D planes.
    let blocked: ChannelBlockedDepthwise

    /// The tail runs on planes of the output itself: a bound residual Add may be fused.
    var acceptsResidual: Bool { true }

    /// The channels-first form of a prepared depthwise kernel (its `(taps, C * M)` weights transposed).
    init(_ channelsLast: DepthwiseKernel) throws {
        attributes = channelsLast.attributes
        window = channelsLast.window
        channels = channelsLast.channels
        multiplier = channelsLast.multiplier
        bias = channelsLast.bias
        activation = channelsLast.activation
        let cm = channels * multiplier, taps = window.reduce(1, *)
        var transposed = [Float](repeating: 0, count: cm * taps)
        let values = try channelsLast.kernel.values()
        for t in 0..<taps { for o in 0..<cm { transposed[o * taps + t] = values[t * cm + o] } }
        kernel = transposed
        blocked = ChannelBlockedDepthwise(kernel: transposed, outputChannels: cm, taps: taps)
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsFirst: x.shape)
        guard xs.c == channels else {
            throw EngineError.shapeMismatch("depthwise input channels", expected: [channels], got: [xs.c])
        }
        let axes = try ConvolutionKernel.windows(input: xs.spatial, window: window, strides: attributes.strides,
                                                 dilations: attributes.dilations, padding: attributes.padding,
                                                 rank: attributes.rank)
        let cm = channels * multiplier
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: cm)
        let out = try context.allocate(os.channelsFirstShape(rank: x.shape.count))
        let (od, oh, ow) = (axes[0].output, axes[1].output, axes[2].output)
        let (id, ih, iw) = (xs.spatial[0], xs.spatial[1], xs.spatial[2])
        let (kd, kh, kw) = (window[0], window[1], window[2])
        let taps = kd * kh * kw
        let inPlane = xs.positions, outPlane = os.positions
        let ops = try Epilogue.bind(Epilogue.layerOps(bias: bias, activation: activation) + tail, to: out)
        let blockOps = ChannelsFirstEpilogue.blockOps(ops)
        if od == 1 && id == 1 && kd == 1 && ow < ChannelBlockedDepthwise.widestRow {
            let g = ChannelBlockedDepthwise.Geometry(ih: ih, iw: iw, oh: oh, ow: ow, kh: kh, kw: kw,
                                                     sh: axes[1].stride, sw: axes[2].stride,
                                                     ph: axes[1].padBefore, pw: axes[2].padBefore,
                                                     dh: axes[1].dilation, dw: axes[2].dilation, multiplier: multiplier)
            let lanes = ChannelBlockedDepthwise.lanes
            let blocks = (cm + lanes - 1) / lanes
            let blocked = self.blocked
            context.parallel.ranges(xs.n * blocks, costPerItem: lanes * outPlane * taps) { range in
                for task in range {
                    let n = task / blocks, block = task % blocks
                    let image = out.pointer + n * cm * outPlane
                    blocked.run(block: block, input: x.pointer + n * channels * inPlane, output: image, g)
                    if let blockOps {
                        ChannelsFirstEpilogue.applyBlock(blockOps, image: image, channels: (block * lanes)..<min(cm, (block + 1) * lanes),
                                                         columns: 0..<outPlane, positions: outPlane)
                    }
                }
            }
        } else {
            planes(x, out, axes: axes, input: xs, outPlane: outPlane, blockOps: blockOps, context)
        }
        if blockOps == nil {
            ChannelsFirstEpilogue.apply(ops, output: out.pointer, images: xs.n, channels: cm, positions: outPlane, parallel: context.parallel)
        }
        return out
    }

    /// Computes every output plane on its own: the taps of a kernel row slide along the input row
    /// (the loop that vectorizes is the output row), then the plane's tail.
    private func planes(_ x: EngineValue, _ out: EngineValue, axes: [WindowAxis], input xs: SpatialShape, outPlane: Int,
                        blockOps: [PostOp]?, _ context: KernelContext) {
        let cm = channels * multiplier
        let (od, oh, ow) = (axes[0].output, axes[1].output, axes[2].output)
        let (id, ih, iw) = (xs.spatial[0], xs.spatial[1], xs.spatial[2])
        let (kd, kh, kw) = (window[0], window[1], window[2])
        let taps = kd * kh * kw
        let inPlane = xs.positions
        // Per kernel column, the output columns whose tap lands inside the input row (so the
        // innermost loop has no bounds test and vectorizes at stride 1).
        let s = axes[2].stride
        let columns = (0..<kw).map { c in Self.inside(offset: c * axes[2].dilation - axes[2].padBefore, stride: s,
                                                       input: iw, output: ow) }
        kernel.withUnsafeBufferPointer { w in
            context.parallel.ranges(xs.n * cm, costPerItem: outPlane * taps) { planes in
                for plane in planes {
                    let n = plane / cm, o = plane % cm
                    let src = x.pointer + (n * channels + o / multiplier) * inPlane
                    let dst = out.pointer + plane * outPlane
                    let wo = w.baseAddress! + o * taps
                    dst.update(repeating: 0, count: outPlane)
                    for yd in 0..<od {
                        for yh in 0..<oh {
                            let row = dst + (yd * oh + yh) * ow
                            for a in 0..<kd {
                                let dd = yd * axes[0].stride - axes[0].padBefore + a * axes[0].dilation
                                if dd < 0 || dd >= id { continue }
                                for b in 0..<kh {
                                    let hh = yh * axes[1].stride - axes[1].padBefore + b * axes[1].dilation
                                    if hh < 0 || hh >= ih { continue }
                                    let line = src + (dd * ih + hh) * iw
                                    for c in 0..<kw {
                                        let wt = wo[(a * kh + b) * kw + c]
                                        let span = columns[c]
                                        if span.lo >= span.hi { continue }
                                        let off = c * axes[2].dilation - axes[2].padBefore
                                        if s == 1 {
                                            let from = line + off
                                            for yw in span.lo..<span.hi { row[yw] += from[yw] * wt }
                                        } else {
                                            for yw in span.lo..<span.hi { row[yw] += line[yw * s + off] * wt }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    if let blockOps {
                        let image = out.pointer + n * cm * outPlane
                        ChannelsFirstEpilogue.applyBlock(blockOps, image: image, channels: o..<(o + 1),
                                                         columns: 0..<outPlane, positions: outPlane)
                    }
                }
            }
        }
    }

    /// The output columns `lo..<hi` whose input column `column * stride + offset` lies in `0..<input`.
    static func inside(offset: Int, stride: Int, input: Int, output: Int) -> (lo: Int, hi: Int) {
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let hi = input - 1 - offset < 0 ? 0 : min(output, (input - 1 - offset) / stride + 1)
        return (min(lo, output), hi)
    }
}
