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
    /// The same taps, sixteen channels to a block: how 2-D planes are computed.
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
        let g = ChannelBlockedDepthwise.Geometry(ih: ih, iw: iw, oh: oh, ow: ow, kh: kh, kw: kw,
                                                 sh: axes[1].stride, sw: axes[2].stride,
                                                 ph: axes[1].padBefore, pw: axes[2].padBefore,
                                                 dh: axes[1].dilation, dw: axes[2].dilation, multiplier: multiplier)
        if od == 1 && id == 1 && kd == 1 && ow < ChannelBlockedDepthwise.widestRow && ChannelBlockedDepthwise.scratch(g) != nil {
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
        let columns = (0..<kw).map { c in WindowAxis.inside(offset: c * axes[2].dilation - axes[2].padBefore, stride: s,
                                                             length: iw, count: ow) }
        let rowKernel = kd == 1 && od == 1 && (s == 1 || s == 2)
        kernel.withUnsafeBufferPointer { w in
            context.parallel.ranges(xs.n * cm, costPerItem: outPlane * taps) { planes in
                for plane in planes {
                    let n = plane / cm, o = plane % cm
                    let src = x.pointer + (n * channels + o / multiplier) * inPlane
                    let dst = out.pointer + plane * outPlane
                    let wo = w.baseAddress! + o * taps
                    if rowKernel {
                        for yh in 0..<oh {
                            Self.row(dst + yh * ow, width: ow, plane: src, rows: ih, inputWidth: iw,
                                     firstRow: yh * axes[1].stride - axes[1].padBefore, rowStep: axes[1].dilation,
                                     kernelRows: kh, kernelColumns: kw, stride: s, columnStep: axes[2].dilation,
                                     pad: axes[2].padBefore, spans: columns, weights: wo)
                        }
                        if let blockOps {
                            ChannelsFirstEpilogue.applyBlock(blockOps, image: out.pointer + n * cm * outPlane, channels: o..<(o + 1),
                                                             columns: 0..<outPlane, positions: outPlane)
                        }
                        continue
                    }
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
                                        if span.isEmpty { continue }
                                        let off = c * axes[2].dilation - axes[2].padBefore
                                        if s == 1 {
                                            let from = line + off
                                            for yw in span { row[yw] += from[yw] * wt }
                                        } else {
                                            for yw in span { row[yw] += line[yw * s + off] * wt }
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

    /// One output row of a 2-D plane at stride 1 or 2 along the row: each output is the sum of its
    /// taps in kernel order (rows, then columns), taps outside the input left out. Eight outputs
    /// whose every tap lies inside the row are computed at once in a vector register; the others
    /// (the edges, the rest) one by one.
    @inline(__always)
    static func row(_ out: UnsafeMutablePointer<Float>, width ow: Int, plane: UnsafePointer<Float>, rows ih: Int, inputWidth iw: Int,
                    firstRow: Int, rowStep: Int, kernelRows kh: Int, kernelColumns kw: Int, stride s: Int, columnStep: Int,
                    pad: Int, spans: [Range<Int>], weights: UnsafePointer<Float>) {
        // Outputs every tap of which is inside the row; at stride 2 the vector load reads one
        // element past the last tap, so that element must be inside too.
        var lo = 0, hi = ow
        for span in spans { lo = max(lo, span.lowerBound); hi = min(hi, span.upperBound) }
        if s == 2 {
            let lastOffset = (kw - 1) * columnStep - pad
            let room = iw - 2 - lastOffset
            hi = room < 0 ? 0 : min(hi, room / 2 + 1)
        }
        if hi < lo { hi = lo }
        func scalar(_ yw: Int) -> Float {
            var acc: Float = 0
            for b in 0..<kh {
                let hh = firstRow + b * rowStep
                if hh < 0 || hh >= ih { continue }
                let line = plane + hh * iw
                for c in 0..<kw {
                    let ww = yw * s + c * columnStep - pad
                    if ww < 0 || ww >= iw { continue }
                    acc += line[ww] * weights[b * kw + c]
                }
            }
            return acc
        }
        for yw in 0..<lo { out[yw] = scalar(yw) }
        // Four vectors at a time: their sums are independent, so the adds overlap.
        @inline(__always)
        func load(_ line: UnsafeRawPointer, _ start: Int) -> SIMD8<Float> {
            s == 1 ? line.loadUnaligned(fromByteOffset: start &* 4, as: SIMD8<Float>.self)
                : line.loadUnaligned(fromByteOffset: start &* 4, as: SIMD16<Float>.self).evenHalf
        }
        var yw = lo
        while yw &+ 32 <= hi {
            var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
            for b in 0..<kh {
                let hh = firstRow &+ b &* rowStep
                if hh < 0 || hh >= ih { continue }
                let line = UnsafeRawPointer(plane + hh &* iw)
                for c in 0..<kw {
                    let start = yw &* s &+ c &* columnStep &- pad
                    let w = SIMD8<Float>(repeating: weights[b &* kw &+ c])
                    a0 += load(line, start) * w
                    a1 += load(line, start &+ 8 &* s) * w
                    a2 += load(line, start &+ 16 &* s) * w
                    a3 += load(line, start &+ 24 &* s) * w
                }
            }
            let target = UnsafeMutableRawPointer(out + yw)
            target.storeBytes(of: a0, as: SIMD8<Float>.self)
            target.storeBytes(of: a1, toByteOffset: 32, as: SIMD8<Float>.self)
            target.storeBytes(of: a2, toByteOffset: 64, as: SIMD8<Float>.self)
            target.storeBytes(of: a3, toByteOffset: 96, as: SIMD8<Float>.self)
            yw &+= 32
        }
        @inline(__always)
        func eight(_ at: Int) {
            var acc = SIMD8<Float>(repeating: 0)
            for b in 0..<kh {
                let hh = firstRow &+ b &* rowStep
                if hh < 0 || hh >= ih { continue }
                let line = UnsafeRawPointer(plane + hh &* iw)
                for c in 0..<kw {
                    acc += load(line, at &* s &+ c &* columnStep &- pad) * SIMD8<Float>(repeating: weights[b &* kw &+ c])
                }
            }
            UnsafeMutableRawPointer(out + at).storeBytes(of: acc, as: SIMD8<Float>.self)
        }
        while yw &+ 8 <= hi {
            eight(yw)
            yw &+= 8
        }
        // The last few inside outputs: the eight that end at `hi`, overlapping outputs already
        // written (with the same values), rather than one at a time.
        if yw < hi && hi &- 8 >= lo {
            eight(hi &- 8)
            yw = hi
        }
        while yw < ow {
            out[yw] = scalar(yw)
            yw += 1
        }
    }
}
