import BNConvCore
import BNConvModel
import BNConvInterop

/// Transposed convolution on channels-last values (kernel `hwoi`, or ONNX `iohw` converted): a GEMM
/// spreads every input position over `taps x out` columns, then col2im adds each column block into
/// output position `i * stride + k * dilation - padBefore`. Output sizes follow Keras's
/// `deconv_output_length` and the padding TensorFlow's `Conv2DBackpropInput` (``WindowAxis``).
struct ConvolutionTransposeKernel: FusableKernel {
    /// Attributes.
    let attributes: Convolution
    /// The `hwoi` kernel `(kd, kh, kw, out/groups, in)` flattened.
    let kernel: KernelWeights
    /// Window size, three entries.
    let window: [Int]
    /// Output channels per group.
    let outputChannelsPerGroup: Int
    /// Input channels.
    let inputChannels: Int
    /// Bias per output channel.
    let bias: [Float]?

    /// Prepares a transposed conv node.
    init(node: Node, attributes: Convolution, streamsWeights: Bool = false) throws {
        self.attributes = attributes
        let weights = try KernelWeights(node, .kernel, as: .hwoi, streamed: streamsWeights && KernelWeights.streams(node, .kernel))
        let shape = weights.shape
        let r = attributes.rank
        guard shape.count == r + 2, attributes.groups >= 1, shape[r + 1] % attributes.groups == 0 else {
            throw EngineError.weightShape(node: node.name, role: .kernel, expected: attributes.kernelSize + [attributes.filters, -1], got: shape)
        }
        kernel = weights
        window = SpatialShape.pad3(Array(shape[0..<r]), fill: 1)
        outputChannelsPerGroup = shape[r]
        inputChannels = shape[r + 1]
        bias = attributes.useBias ? try PreparedWeights.vector(node, .bias, count: shape[r] * attributes.groups) : nil
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsLast: x.shape)
        let groups = attributes.groups
        guard xs.c == inputChannels else {
            throw EngineError.shapeMismatch("transposed convolution input channels", expected: [inputChannels], got: [xs.c])
        }
        let axes = try Self.windows(input: xs.spatial, window: window, attributes: attributes)
        let coutG = outputChannelsPerGroup, cout = coutG * groups, cinG = inputChannels / groups
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: cout)
        let out = try context.allocate(os.shape(rank: x.shape.count))
        out.pointer.update(repeating: 0, count: out.count)
        let taps = window.reduce(1, *)
        let columns = taps * coutG
        let positions = xs.positions
        let (id, ih, iw) = (xs.spatial[0], xs.spatial[1], xs.spatial[2])
        let (od, oh, ow) = (os.spatial[0], os.spatial[1], os.spatial[2])
        let (kd, kh, kw) = (window[0], window[1], window[2])
        try kernel.withFloats(context.pool) { w in
            context.pool.withScratch(max(positions * columns, 1)) { col in
                for n in 0..<xs.n {
                    for g in 0..<groups {
                        // col[p, (tap, o)] = sum_i x[n, p, g*cinG + i] * W[tap, o, g*cinG + i]
                        ParallelGEMM.multiply(transposeB: true, m: positions, n: columns, k: cinG,
                                   a: x.pointer + n * positions * inputChannels + g * cinG, lda: inputChannels,
                                   b: w.baseAddress! + g * cinG, ldb: inputChannels, c: col, ldc: columns, parallel: context.parallel)
                        // col2im, parallel over output depth-rows so no two workers write one cell.
                        let base = out.pointer + n * os.positions * cout + g * coutG
                        context.parallel.ranges(od * oh, costPerItem: ow * coutG * taps) { range in
                            for orow in range {
                                let yh = orow % oh, yd = orow / oh
                                for a in 0..<kd {
                                    let tD = yd + axes[0].padBefore - a * axes[0].dilation
                                    guard tD >= 0, tD % axes[0].stride == 0, tD / axes[0].stride < id else { continue }
                                    let xd = tD / axes[0].stride
                                    for b in 0..<kh {
                                        let tH = yh + axes[1].padBefore - b * axes[1].dilation
                                        guard tH >= 0, tH % axes[1].stride == 0, tH / axes[1].stride < ih else { continue }
                                        let xh = tH / axes[1].stride
                                        for c in 0..<kw {
                                            let tap = (a * kh + b) * kw + c
                                            for yw in 0..<ow {
                                                let tW = yw + axes[2].padBefore - c * axes[2].dilation
                                                guard tW >= 0, tW % axes[2].stride == 0, tW / axes[2].stride < iw else { continue }
                                                let p = (xd * ih + xh) * iw + tW / axes[2].stride
                                                let src = col + p * columns + tap * coutG
                                                let dst = base + ((yd * oh + yh) * ow + yw) * cout
                                                for o in 0..<coutG { dst[o] += src[o] }
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
        Epilogue.apply(Epilogue.layerOps(bias: bias, activation: attributes.activation) + tail, output: out.pointer, rows: os.n * os.positions, columns: cout, parallel: context.parallel)
        return out
    }

    /// The three window axes (leading unit axes for 1-D/2-D) of a transposed convolution of
    /// `attributes` with `window` over `input` (three spatial lengths).
    static func windows(input: [Int], window: [Int], attributes: Convolution) throws -> [WindowAxis] {
        let rank = attributes.rank
        let s = SpatialShape.pad3(attributes.strides, fill: 1), d = SpatialShape.pad3(attributes.dilations, fill: 1)
        let op = attributes.outputPadding.map { SpatialShape.pad3($0, fill: 0) }
        return try (0..<3).map { a -> WindowAxis in
            let real = a - (3 - rank)
            return try WindowAxis(transposedInput: input[a], kernel: window[a], stride: s[a], dilation: d[a],
                                  padding: real >= 0 ? attributes.padding : .valid,
                                  outputPadding: real >= 0 ? op?[a] : nil, axis: max(real, 0))
        }
    }
}
