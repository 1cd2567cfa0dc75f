import BNConvCore
import BNConvModel
import BNConvInterop

/// 2-D transposed convolution on channels-first values, without permuting them (ONNX's and
/// PyTorch's `ConvTranspose`, paddle2onnx's FPN upsampling): per image and group, one product
/// `col[(o, kh, kw), positions] = W[c, (o, kh, kw)]^T x X[c, positions]` with the `iohw` kernel as
/// it is stored, then each output channel's plane gathers its taps' rows (col2im: input position
/// `(i, j)` of tap `(a, b)` lands on output `(i * sh - ph + a * dh, j * sw - pw + b * dw)`) and
/// takes the bias, activation and fused tail while it is in cache. Output sizes as
/// ``ConvolutionTransposeKernel`` computes them.
struct ChannelsFirstConvolutionTransposeKernel: FusableKernel {
    /// Attributes.
    let attributes: Convolution
    /// The `iohw` kernel `(in, out/groups, kh, kw)` flattened.
    let kernel: KernelWeights
    /// Window size, three entries (a leading unit axis).
    let window: [Int]
    /// Output channels per group.
    let outputChannelsPerGroup: Int
    /// Input channels.
    let inputChannels: Int
    /// Bias per output channel.
    let bias: [Float]?

    /// The tail runs on planes of the output itself: a bound residual Add may be fused.
    var acceptsResidual: Bool { true }

    /// Prepares a 2-D channels-first transposed conv node (kernel `iohw`, or `hwoi` converted).
    init(node: Node, attributes: Convolution, streamsWeights: Bool = false) throws {
        self.attributes = attributes
        let weights = try KernelWeights(node, .kernel, as: .iohw, streamed: streamsWeights && KernelWeights.streams(node, .kernel))
        let shape = weights.shape
        guard attributes.rank == 2, shape.count == 4, attributes.groups >= 1, shape[0] % attributes.groups == 0 else {
            throw EngineError.weightShape(node: node.name, role: .kernel, expected: [-1, attributes.filters] + attributes.kernelSize, got: shape)
        }
        kernel = weights
        window = [1, shape[2], shape[3]]
        outputChannelsPerGroup = shape[1]
        inputChannels = shape[0]
        bias = attributes.useBias ? try PreparedWeights.vector(node, .bias, count: shape[1] * attributes.groups) : nil
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsFirst: x.shape)
        let groups = attributes.groups
        guard xs.c == inputChannels, x.shape.count == 4 else {
            throw EngineError.shapeMismatch("transposed convolution input channels", expected: [inputChannels], got: [xs.c])
        }
        let axes = try ConvolutionTransposeKernel.windows(input: xs.spatial, window: window, attributes: attributes)
        let coutG = outputChannelsPerGroup, cout = coutG * groups, cinG = inputChannels / groups
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: cout)
        let out = try context.allocate(os.channelsFirstShape(rank: 4))
        let ops = try Epilogue.bind(Epilogue.layerOps(bias: bias, activation: attributes.activation) + tail, to: out)
        let blockOps = ChannelsFirstEpilogue.blockOps(ops)
        let (ih, iw) = (xs.spatial[1], xs.spatial[2])
        let (oh, ow) = (axes[1].output, axes[2].output)
        let (kh, kw) = (window[1], window[2])
        let taps = kh * kw
        let positions = ih * iw, outPlane = oh * ow
        let rows = coutG * taps
        let (sh, sw, ph, pw, dh, dw) = (axes[1].stride, axes[2].stride, axes[1].padBefore, axes[2].padBefore,
                                        axes[1].dilation, axes[2].dilation)
        // Per kernel column, the input columns landing inside an output row.
        let columns = (0..<kw).map { b in WindowAxis.inside(offset: b * dw - pw, stride: sw, length: ow, count: iw) }
        try kernel.withFloats(context.pool) { w in
            let col = context.pool.take(max(rows * positions, 1))
            defer { context.pool.release(col) }
            for n in 0..<xs.n {
                for g in 0..<groups {
                    let xg = x.pointer + (n * inputChannels + g * cinG) * positions
                    // col[(o, tap), p] = sum_c W[g * cinG + c, o, tap] * x[c, p], split by positions.
                    let parts = rows * positions * cinG < ParallelGEMM.serialLimit ? 1
                        : context.parallel.parts(positions, minimum: ChannelsFirstConvolutionKernel.minimumColumns)
                    context.parallel.forEach(parts) { p in
                        let lo = positions * p / parts, hi = positions * (p + 1) / parts
                        BLAS.sgemm(transposeA: true, m: rows, n: hi - lo, k: cinG, a: w.baseAddress! + g * cinG * rows, lda: rows,
                                   b: xg + lo, ldb: positions, c: col.base + lo, ldc: positions)
                    }
                    let image = out.pointer + n * cout * outPlane
                    context.parallel.ranges(coutG, costPerItem: taps * positions) { range in
                        for o in range {
                            let plane = image + (g * coutG + o) * outPlane
                            plane.update(repeating: 0, count: outPlane)
                            for a in 0..<kh {
                                for b in 0..<kw {
                                    let source = col.base + ((o * kh + a) * kw + b) * positions
                                    let span = columns[b]
                                    if span.isEmpty { continue }
                                    let offset = b * dw - pw
                                    for i in 0..<ih {
                                        let yh = i * sh - ph + a * dh
                                        if yh < 0 || yh >= oh { continue }
                                        let target = plane + yh * ow + offset, from = source + i * iw
                                        if sw == 1 {
                                            for j in span { target[j] += from[j] }
                                        } else {
                                            for j in span { target[j * sw] += from[j] }
                                        }
                                    }
                                }
                            }
                            if let blockOps {
                                ChannelsFirstEpilogue.applyBlock(blockOps, image: image, channels: (g * coutG + o)..<(g * coutG + o + 1),
                                                                 columns: 0..<outPlane, positions: outPlane)
                            }
                        }
                    }
                }
            }
        }
        if blockOps == nil {
            ChannelsFirstEpilogue.apply(ops, output: out.pointer, images: xs.n, channels: cout, positions: outPlane, parallel: context.parallel)
        }
        return out
    }
}
