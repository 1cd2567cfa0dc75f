/// Convolution (1-D, 2-D, 3-D; strides, dilations, groups, SAME/VALID/causal/explicit padding) on
/// channels-last values, as GEMM: im2col into a pooled scratch matrix, then `cblas_sgemm` against the
/// `hwio` kernel; a 1x1 stride-1 unpadded convolution multiplies the input directly.
struct ConvolutionKernel: FusableKernel {
    /// Attributes.
    let attributes: Convolution
    /// The `hwio` kernel with three spatial axes: `(kd, kh, kw, cin/groups, cout)` flattened.
    let kernel: [Float]
    /// Window size, three entries (leading unit axes for 1-D/2-D).
    let window: [Int]
    /// Input channels per group.
    let inputChannelsPerGroup: Int
    /// Output channels.
    let outputChannels: Int
    /// Bias per output channel.
    let bias: [Float]?
    /// Upper bound on im2col scratch (floats) before rows are split in chunks.
    static let scratchLimit = 1 << 22

    /// Prepares a conv node (kernel `hwio`, or `oihw` converted).
    init(node: Node, attributes: Convolution) throws {
        self.attributes = attributes
        let (values, shape) = try PreparedWeights.kernel(node, .kernel, as: .hwio)
        let r = attributes.rank
        guard shape.count == r + 2, attributes.groups >= 1, shape[r + 1] % attributes.groups == 0 else {
            throw EngineError.weightShape(node: node.name, role: .kernel,
                                          expected: attributes.kernelSize + [-1, attributes.filters], got: shape)
        }
        kernel = values
        window = SpatialShape.pad3(Array(shape[0..<r]), fill: 1)
        inputChannelsPerGroup = shape[r]
        outputChannels = shape[r + 1]
        bias = attributes.useBias ? try PreparedWeights.vector(node, .bias, count: outputChannels) : nil
    }

    /// The three window axes of a conv or pool over `input` (three spatial sizes).
    static func windows(input: [Int], window: [Int], strides: [Int], dilations: [Int], padding: Padding,
                        rank: Int) throws -> [WindowAxis] {
        let s = SpatialShape.pad3(strides, fill: 1), d = SpatialShape.pad3(dilations, fill: 1)
        return try (0..<3).map { a in
            let real = a - (3 - rank)
            return try WindowAxis(input: input[a], kernel: window[a], stride: s[a], dilation: d[a],
                                  padding: real >= 0 ? padding : .valid, axis: max(real, 0))
        }
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsLast: x.shape)
        let groups = attributes.groups
        guard xs.c == inputChannelsPerGroup * groups else {
            throw EngineError.shapeMismatch("convolution input channels", expected: [inputChannelsPerGroup * groups], got: [xs.c])
        }
        let axes = try ConvolutionKernel.windows(input: xs.spatial, window: window, strides: attributes.strides,
                                                 dilations: attributes.dilations, padding: attributes.padding,
                                                 rank: attributes.rank)
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: outputChannels)
        let out = context.allocate(os.shape(rank: x.shape.count))
        let rows = os.n * os.positions
        let cout = outputChannels, coutG = cout / groups, cinG = inputChannelsPerGroup
        let taps = window.reduce(1, *)
        let k = taps * cinG
        let pointwise = taps == 1 && groups == 1 && axes.allSatisfy { $0.stride == 1 && $0.padBefore == 0 && $0.output == $0.input }
        kernel.withUnsafeBufferPointer { w in
            if pointwise {
                BLAS.sgemm(m: rows, n: cout, k: cinG, a: x.pointer, lda: cinG, b: w.baseAddress!, ldb: cout,
                           c: out.pointer, ldc: cout)
            } else if rows > 0 {
                let chunkRows = max(1, min(rows, ConvolutionKernel.scratchLimit / max(k, 1)))
                context.pool.withScratch(chunkRows * k) { col in
                    var start = 0
                    while start < rows {
                        let count = min(chunkRows, rows - start)
                        for g in 0..<groups {
                            Im2Col.fill(col, x: x.pointer, input: xs, axes: axes, window: window,
                                        channelOffset: g * cinG, channels: cinG, rows: start..<(start + count))
                            BLAS.sgemm(m: count, n: coutG, k: k, a: col, lda: k, b: w.baseAddress! + g * coutG, ldb: cout,
                                       c: out.pointer + start * cout + g * coutG, ldc: cout)
                        }
                        start += count
                    }
                }
            }
        }
        Epilogue.apply(Epilogue.layerOps(bias: bias, activation: attributes.activation) + tail, output: out.pointer, rows: rows, columns: cout)
        return out
    }
}
