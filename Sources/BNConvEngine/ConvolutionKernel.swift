import BNConvCore
import BNConvModel
import BNConvInterop

/// Convolution (1-D, 2-D, 3-D; strides, dilations, groups, SAME/VALID/causal/explicit padding) on
/// channels-last values, as GEMM: im2col into a pooled scratch matrix, then `cblas_sgemm` against the
/// `hwio` kernel; a 1x1 stride-1 unpadded convolution multiplies the input directly.
struct ConvolutionKernel: FusableKernel {
    /// Attributes.
    let attributes: Convolution
    /// The `hwio` kernel with three spatial axes: `(kd, kh, kw, cin/groups, cout)` flattened.
    let kernel: KernelWeights
    /// Window size, three entries (leading unit axes for 1-D/2-D).
    let window: [Int]
    /// Input channels per group.
    let inputChannelsPerGroup: Int
    /// Output channels.
    let outputChannels: Int
    /// Bias per output channel.
    let bias: [Float]?
    /// Upper bound on im2col scratch (floats) before rows are split in chunks: 4 MB, which stays in
    /// the cache while it is multiplied (16 MB ran no faster: ResNet-50 `run --time` at batch 2 and
    /// 8 alike, a verified fold 10% slower) and is what a runner keeps per distinct size.
    static let scratchLimit = 1 << 20

    /// The tail runs on rows of the output itself: a bound residual Add may be fused.
    var acceptsResidual: Bool { true }

    /// Prepares a conv node (kernel `hwio`, or `oihw` converted), or only plans it when `streamsWeights`.
    init(node: Node, attributes: Convolution, streamsWeights: Bool = false) throws {
        self.attributes = attributes
        let weights = try KernelWeights(node, .kernel, as: .hwio, streamed: streamsWeights && KernelWeights.streams(node, .kernel))
        let shape = weights.shape
        let r = attributes.rank
        guard shape.count == r + 2, attributes.groups >= 1, shape[r + 1] % attributes.groups == 0 else {
            throw EngineError.weightShape(node: node.name, role: .kernel,
                                          expected: attributes.kernelSize + [-1, attributes.filters], got: shape)
        }
        kernel = weights
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
        let out = try context.allocate(os.shape(rank: x.shape.count))
        let rows = os.n * os.positions
        let cout = outputChannels, coutG = cout / groups, cinG = inputChannelsPerGroup
        let taps = window.reduce(1, *)
        let k = taps * cinG
        let pointwise = taps == 1 && groups == 1 && axes.allSatisfy { $0.stride == 1 && $0.padBefore == 0 && $0.output == $0.input }
        let ops = try Epilogue.bind(Epilogue.layerOps(bias: bias, activation: attributes.activation) + tail, to: out)
        let rowWise = Epilogue.isRowWise(ops)
        // Split output rows across the cores when there are enough; each part does its own
        // im2col, single-threaded GEMM and epilogue while its rows are in cache.
        let parts = rows * cout * k >= ParallelGEMM.serialLimit ? context.parallel.parts(rows, minimum: 64) : 1
        try kernel.withFloats(context.pool) { w in
            let weights = w.baseAddress!
            if pointwise {
                if parts == 1 {
                    ParallelGEMM.multiply(m: rows, n: cout, k: cinG, a: x.pointer, lda: cinG, b: weights, ldb: cout,
                                          c: out.pointer, ldc: cout, parallel: context.parallel)
                    if rowWise { Epilogue.apply(ops, output: out.pointer, rows: rows, columns: cout, parallel: context.parallel) }
                } else {
                    context.parallel.forEach(parts) { p in
                        let lo = rows * p / parts, hi = rows * (p + 1) / parts
                        BLAS.sgemm(m: hi - lo, n: cout, k: cinG, a: x.pointer + lo * cinG, lda: cinG, b: weights, ldb: cout,
                                   c: out.pointer + lo * cout, ldc: cout)
                        if rowWise { Epilogue.applyRows(ops, output: out.pointer, rows: lo..<hi, columns: cout) }
                    }
                }
            } else if rows > 0 {
                let rowsPerPart = (rows + parts - 1) / parts
                let chunkRows = max(1, min(rowsPerPart, ConvolutionKernel.scratchLimit / parts / max(k, 1)))
                let scratch = (0..<parts).map { _ in context.pool.take(chunkRows * k) }
                defer { scratch.forEach(context.pool.release) }
                context.parallel.forEach(parts) { p in
                    let col = scratch[p].base
                    var start = rows * p / parts
                    let end = rows * (p + 1) / parts
                    while start < end {
                        let count = min(chunkRows, end - start)
                        for g in 0..<groups {
                            Im2Col.fill(col, x: x.pointer, input: xs, axes: axes, window: window, channelOffset: g * cinG,
                                        channels: cinG, rows: start..<(start + count), concurrently: parts == 1,
                                        parallel: context.parallel)
                            let c = out.pointer + start * cout + g * coutG
                            if parts == 1 {
                                ParallelGEMM.multiply(m: count, n: coutG, k: k, a: col, lda: k, b: weights + g * coutG,
                                                      ldb: cout, c: c, ldc: cout, parallel: context.parallel)
                            } else {
                                BLAS.sgemm(m: count, n: coutG, k: k, a: col, lda: k, b: weights + g * coutG, ldb: cout,
                                           c: c, ldc: cout)
                            }
                        }
                        if rowWise && parts > 1 {
                            Epilogue.applyRows(ops, output: out.pointer, rows: start..<(start + count), columns: cout)
                        }
                        start += count
                    }
                }
                if rowWise && parts == 1 { Epilogue.apply(ops, output: out.pointer, rows: rows, columns: cout, parallel: context.parallel) }
            }
        }
        if !rowWise { Epilogue.apply(ops, output: out.pointer, rows: rows, columns: cout, parallel: context.parallel) }
        return out
    }
}
