import BNConvCore
import BNConvModel
import BNConvInterop

/// Convolution (1-D, 2-D, 3-D; strides, dilations, groups, any padding) on channels-first values,
/// without permuting them: per image and group, `out[O, positions] = W[O, C*taps] x col[C*taps, positions]`
/// with the `oihw` kernel as it is stored and ``ChannelsFirstIm2Col``; a 1x1 stride-1 unpadded
/// convolution multiplies the input itself (`W[O, C] x X[C, positions]`). The bias, activation and a
/// fused BatchNorm/activation tail (``ChannelsFirstEpilogue``) run on each block while it is in cache.
///
/// Work is split across the cores by output positions (each part gathers and multiplies its own
/// columns) when there are at least as many positions as output channels, else by output channels
/// over one shared gathered matrix: either way the part duplicated (the packing of the other
/// operand) is the smaller one. With several images and few positions, the images' columns are
/// gathered side by side and multiplied at once, so the kernel is packed once per batch, not per image.
struct ChannelsFirstConvolutionKernel: FusableKernel {
    /// Attributes.
    let attributes: Convolution
    /// The `oihw` kernel, `(O, C/groups, kd, kh, kw)` flattened.
    let kernel: KernelWeights
    /// Window size, three entries (leading unit axes for 1-D/2-D).
    let window: [Int]
    /// Input channels per group.
    let inputChannelsPerGroup: Int
    /// Output channels.
    let outputChannels: Int
    /// Bias per output channel.
    let bias: [Float]?
    /// Columns (positions) one part gathers at a time, at most: bounds the scratch to about
    /// `columnBudget` floats per part.
    static let columnBudget = 1 << 18
    /// Fewest columns (output positions) a part of a product split by positions gets: each part packs
    /// the whole kernel, which costs OpenBLAS about as much per element as a dozen multiply-adds.
    static let minimumColumns = 128
    /// Fewest rows (output channels) a part of a product split by channels gets (each part packs
    /// the whole gathered matrix).
    static let minimumRows = 64

    /// Parts to split `extent` rows or columns into: one per core, each at least `minimum`. One
    /// part per core rather than ``Parallel/partsPerWorker``: every part packs an operand again,
    /// and on an idle machine ResNet-50 ran 5-8% faster so (batch 1, 33 ms instead of 35-40 ms).
    static func parts(_ extent: Int, minimum: Int, parallel: Parallel) -> Int {
        min(parallel.workers, max(1, extent / max(minimum, 1)))
    }

    /// Every block the tail is applied to lies in the output (``batchedByChannels`` applies a
    /// residual Add after scattering), so a bound residual Add may be fused.
    var acceptsResidual: Bool { true }

    /// Prepares a conv node (kernel `oihw`, or `hwio` converted), or only plans it when `streamsWeights`.
    init(node: Node, attributes: Convolution, streamsWeights: Bool = false) throws {
        self.attributes = attributes
        let weights = try KernelWeights(node, .kernel, as: .oihw, streamed: streamsWeights && KernelWeights.streams(node, .kernel))
        let shape = weights.shape
        let r = attributes.rank
        guard shape.count == r + 2, attributes.groups >= 1, shape[0] % attributes.groups == 0 else {
            throw EngineError.weightShape(node: node.name, role: .kernel,
                                          expected: [attributes.filters, -1] + attributes.kernelSize, got: shape)
        }
        kernel = weights
        window = SpatialShape.pad3(Array(shape[2...]), fill: 1)
        inputChannelsPerGroup = shape[1]
        outputChannels = shape[0]
        bias = attributes.useBias ? try PreparedWeights.vector(node, .bias, count: outputChannels) : nil
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsFirst: x.shape)
        let groups = attributes.groups
        guard xs.c == inputChannelsPerGroup * groups else {
            throw EngineError.shapeMismatch("convolution input channels", expected: [inputChannelsPerGroup * groups], got: [xs.c])
        }
        let axes = try ConvolutionKernel.windows(input: xs.spatial, window: window, strides: attributes.strides,
                                                 dilations: attributes.dilations, padding: attributes.padding,
                                                 rank: attributes.rank)
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: outputChannels)
        let out = try context.allocate(os.channelsFirstShape(rank: x.shape.count))
        let ops = try Epilogue.bind(Epilogue.layerOps(bias: bias, activation: attributes.activation) + tail, to: out)
        let blockOps = ChannelsFirstEpilogue.blockOps(ops)
        let geometry = Geometry(images: xs.n, inputPlane: xs.positions, input: xs.spatial, positions: os.positions,
                                cinG: inputChannelsPerGroup, cout: outputChannels, groups: groups,
                                taps: window.reduce(1, *), axes: axes, window: window)
        if geometry.positions > 0 && geometry.images > 0 {
            try kernel.withFloats(context.pool) { w in
                if geometry.positions >= geometry.coutG || groups > 1 {
                    splitByPositions(geometry, x: x.pointer, w: w.baseAddress!, out: out.pointer, ops: blockOps ?? [], context)
                } else {
                    if geometry.images > 1 && (!geometry.pointwise || geometry.coutG > 2 * geometry.positions) {
                        batchedByChannels(geometry, x: x.pointer, w: w.baseAddress!, out: out.pointer, ops: blockOps ?? [], context)
                    } else {
                        splitByChannels(geometry, x: x.pointer, w: w.baseAddress!, out: out.pointer, ops: blockOps ?? [], context)
                    }
                }
            }
        }
        if blockOps == nil {
            ChannelsFirstEpilogue.apply(ops, output: out.pointer, images: os.n, channels: outputChannels, positions: os.positions, parallel: context.parallel)
        }
        return out
    }

    /// The sizes one run works with.
    private struct Geometry {
        let images: Int, inputPlane: Int, input: [Int], positions: Int, cinG: Int, cout: Int, groups: Int, taps: Int
        let axes: [WindowAxis], window: [Int]
        var coutG: Int { cout / groups }
        var k: Int { cinG * taps }
        /// 1x1, stride 1, unpadded: the input is the gathered matrix.
        var pointwise: Bool {
            taps == 1 && axes.allSatisfy { $0.stride == 1 && $0.padBefore == 0 && $0.output == $0.input }
        }
        /// The image's input and output.
        func input(_ x: UnsafePointer<Float>, image n: Int) -> UnsafePointer<Float> { x + n * cinG * groups * inputPlane }
        func output(_ o: UnsafeMutablePointer<Float>, image n: Int) -> UnsafeMutablePointer<Float> { o + n * cout * positions }
    }

    /// Parts each own a range of output positions of one image: gather those columns (every group)
    /// into the part's scratch, multiply, apply the tail.
    private func splitByPositions(_ g: Geometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                  out: UnsafeMutablePointer<Float>, ops: [PostOp], _ context: KernelContext) {
        let work = g.images * g.positions * g.cout * g.k
        let wanted = work < ParallelGEMM.serialLimit ? 1 : Self.parts(g.positions * g.images, minimum: Self.minimumColumns, parallel: context.parallel)
        let perImage = max(1, min(wanted / g.images, g.positions / Self.minimumColumns))
        let tasks = g.images * perImage
        let chunk = g.pointwise ? g.positions : max(Self.minimumColumns, Self.columnBudget / max(g.k, 1))
        let scratchColumns = min(chunk, (g.positions + perImage - 1) / perImage)
        let scratch = g.pointwise ? [] : (0..<tasks).map { _ in context.pool.take(g.k * scratchColumns) }
        defer { scratch.forEach(context.pool.release) }
        context.parallel.forEach(tasks) { task in
            let n = task / perImage, part = task % perImage
            let xn = g.input(x, image: n), yn = g.output(out, image: n)
            var lo = g.positions * part / perImage
            let end = g.positions * (part + 1) / perImage
            while lo < end {
                let hi = min(end, lo + scratchColumns)
                for group in 0..<g.groups {
                    let xg = xn + group * g.cinG * g.inputPlane
                    let b: UnsafePointer<Float>, ldb: Int
                    if g.pointwise {
                        b = xg + lo
                        ldb = g.positions
                    } else {
                        ChannelsFirstIm2Col.fill(scratch[task].base, ld: hi - lo, x: xg, input: g.input, axes: g.axes,
                                                 window: g.window, rows: 0..<g.k, columns: lo..<hi)
                        b = UnsafePointer(scratch[task].base)
                        ldb = hi - lo
                    }
                    BLAS.sgemm(m: g.coutG, n: hi - lo, k: g.k, a: w + group * g.coutG * g.k, lda: g.k, b: b, ldb: ldb,
                               c: yn + group * g.coutG * g.positions + lo, ldc: g.positions)
                }
                ChannelsFirstEpilogue.applyBlock(ops, image: yn, channels: 0..<g.cout, columns: lo..<hi, positions: g.positions)
                lo = hi
            }
        }
    }

    /// Few positions, many output channels, several images (one group): gather every image's columns
    /// side by side (`col[K, images * positions]`; a pointwise input is copied there), multiply once
    /// per range of output channels into a scratch `[O, images * positions]` with the tail applied,
    /// then scatter each image's block to its place in the output (a residual Add and what follows
    /// it are applied there, where the residual's elements line up).
    private func batchedByChannels(_ g: Geometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                   out: UnsafeMutablePointer<Float>, ops: [PostOp], _ context: KernelContext) {
        let columns = g.images * g.positions
        let col = context.pool.take(g.k * columns)
        let product = context.pool.take(g.cout * columns)
        defer { context.pool.release(col); context.pool.release(product) }
        context.parallel.ranges(g.images * g.k, costPerItem: g.positions) { range in
            for item in range {
                let n = item / g.k, row = item % g.k
                let xn = g.input(x, image: n), dst = col.base + n * g.positions
                if g.pointwise {
                    (dst + row * columns).update(from: xn + row * g.positions, count: g.positions)
                } else {
                    ChannelsFirstIm2Col.fill(dst, ld: columns, x: xn, input: g.input, axes: g.axes, window: g.window,
                                             rows: row..<(row + 1), columns: 0..<g.positions)
                }
            }
        }
        let parts = Self.parts(g.cout, minimum: Self.minimumRows, parallel: context.parallel)
        let (scratchOps, inPlaceOps) = ChannelsFirstEpilogue.splitAtResidual(ops)
        context.parallel.forEach(parts) { p in
            let lo = g.cout * p / parts, hi = g.cout * (p + 1) / parts
            BLAS.sgemm(m: hi - lo, n: columns, k: g.k, a: w + lo * g.k, lda: g.k, b: col.base, ldb: columns,
                       c: product.base + lo * columns, ldc: columns)
            ChannelsFirstEpilogue.applyBlock(scratchOps, image: product.base, channels: lo..<hi, columns: 0..<columns,
                                             positions: columns)
        }
        context.parallel.ranges(g.images * g.cout, costPerItem: g.positions) { range in
            for item in range {
                let n = item / g.cout, o = item % g.cout
                (g.output(out, image: n) + o * g.positions).update(from: product.base + o * columns + n * g.positions,
                                                                   count: g.positions)
                if !inPlaceOps.isEmpty {
                    ChannelsFirstEpilogue.applyBlock(inPlaceOps, image: g.output(out, image: n), channels: o..<(o + 1),
                                                     columns: 0..<g.positions, positions: g.positions)
                }
            }
        }
    }

    /// Few positions, many output channels (one group): per image, gather every column once (on
    /// every core), then parts each multiply a range of output channels and apply their tail.
    private func splitByChannels(_ g: Geometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                 out: UnsafeMutablePointer<Float>, ops: [PostOp], _ context: KernelContext) {
        let work = g.positions * g.cout * g.k
        let parts = work < ParallelGEMM.serialLimit ? 1 : Self.parts(g.cout, minimum: Self.minimumRows, parallel: context.parallel)
        let scratch = g.pointwise ? nil : context.pool.take(g.k * g.positions)
        defer { scratch.map(context.pool.release) }
        for n in 0..<g.images {
            let xn = g.input(x, image: n), yn = g.output(out, image: n)
            let b: UnsafePointer<Float>
            if let scratch {
                context.parallel.ranges(g.k, costPerItem: g.positions) { rows in
                    ChannelsFirstIm2Col.fill(scratch.base, ld: g.positions, x: xn, input: g.input, axes: g.axes,
                                             window: g.window, rows: rows, columns: 0..<g.positions)
                }
                b = UnsafePointer(scratch.base)
            } else {
                b = xn
            }
            context.parallel.forEach(parts) { p in
                let lo = g.cout * p / parts, hi = g.cout * (p + 1) / parts
                BLAS.sgemm(m: hi - lo, n: g.positions, k: g.k, a: w + lo * g.k, lda: g.k, b: b, ldb: g.positions,
                           c: yn + lo * g.positions, ldc: g.positions)
                ChannelsFirstEpilogue.applyBlock(ops, image: yn, channels: lo..<hi, columns: 0..<g.positions,
                                                 positions: g.positions)
            }
        }
    }
}
