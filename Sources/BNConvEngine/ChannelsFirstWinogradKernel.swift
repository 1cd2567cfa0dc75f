import BNConvCore
import BNConvModel
import BNConvInterop

/// A 2-D channels-first 3x3 convolution (stride 1, dilation 1, one group, any padding) by Winograd's
/// minimal filtering F(m x m, 3 x 3) (Lavin & Gray 2015, "Fast Algorithms for Convolutional Neural
/// Networks"; ``WinogradTile``): `Y = A^T [(G g G^T) ⊙ (B^T d B)] A` per `m x m` output tile.
///
/// The filters are transformed once, at creation, into `alpha^2` matrices `U[ξ]` (`[O x C]`). A run
/// transforms the input tiles of all images into `V[ξ]` (`[C x tiles]`, the images' tiles side by
/// side), multiplies `M[ξ] = U[ξ] x V[ξ]` with one single-threaded sgemm per `ξ`, and transforms
/// `M` back straight into the output, where the bias, activation and fused tail
/// (``ChannelsFirstEpilogue``) run while the block is in cache.
///
/// With many tiles, each core takes a range of tile rows and works through it in blocks small
/// enough for its cache (transform, 16 or 36 products, transform back); with few tiles (deep, small
/// layers), one block holds every tile and the products are shared out by `ξ`. Inputs too small for
/// the transforms to pay run the direct ``ChannelsFirstConvolutionKernel`` instead.
struct ChannelsFirstWinogradKernel: FusableKernel {
    /// The tile size.
    let tile: WinogradTile
    /// The direct convolution: the layer's attributes, bias and kernel, and the fallback for small inputs.
    let direct: ChannelsFirstConvolutionKernel
    /// `U[ξ][o][c]`, ``WinogradTile/transformFilters(_:outputs:inputs:)``.
    let filters: [Float]
    /// Fewest output positions (all images) run by Winograd's algorithm; fewer run ``direct``.
    let minimumOutputs: Int
    /// Floats of `V` and `M` together one block of tiles holds (``defaultBlockBudget``).
    let blockBudget: Int

    /// Fewest input and output channels run by Winograd's algorithm: the transforms cost per
    /// channel what a product saves per channel pair. Measured (CPU time, one 3x3 layer with ReLU,
    /// batch 1): 32 channels at 56x56 and 112x112 ran 25-35% faster, 64 at 56x56 35-45% faster;
    /// fewer channels were not measured, so they keep the direct kernel.
    static let minimumChannels = 32
    /// Widest layer (input and output channels) given F(4x4, 3x3); wider ones get F(2x2, 3x3).
    /// Measured per ResNet-50 layer (CPU time, 2 cores): 64 and 128 channels ran 10-20% faster
    /// with F(4x4) than with F(2x2); at batch 1, 256 channels ran 40% and 512 channels 90% slower
    /// (their 36 transformed filter matrices, 2.25x F(2x2)'s, are read from memory on every run
    /// and outweigh the fewer multiplies); at batch 8, 256 channels ran 8% faster, 512 35% slower.
    static let largeTileChannels = 128
    /// Fewest output positions (all images) for which the transforms pay: ResNet-50's 7x7 layers
    /// (512 channels) ran no faster by Winograd at batch 1 (49 positions: 16 MB of transformed
    /// filters read for 16 tiles, against 9 MB of filters direct), 35% faster at batch 8; its
    /// 14x14 layers (196 positions, 256 channels) 20% faster at batch 1.
    static let defaultMinimumOutputs = 128
    /// Floats of `V` and `M` together one block of tiles holds (per core, 4 MB).
    static let defaultBlockBudget = 1 << 20
    /// Most floats of `V` and `M` one shared block of every tile may take, in block budgets
    /// (32 M floats, 128 MB, by default; ResNet-50 at batch 8 takes at most 4 M).
    static let sharedBlocks = 32
    /// Fewest tiles a block of ``defaultBlockBudget`` must hold for the cores to work through blocks
    /// of their own; with fewer (many channels), they share one block of every tile instead, as
    /// each block's products pack every `U[ξ]` again. Measured (CPU time, ResNet-50 layers at batch
    /// 8): 64 channels (227 tiles a block) ran 8% faster in blocks; 128 and 256 channels (113 and
    /// 128 tiles) ran 10-15% faster shared.
    static let minimumBlockTiles = 192

    /// Whether the convolution `attributes` with an `oihw` kernel of `window` (three entries),
    /// `inputChannels` per group and `outputChannels` is one this kernel runs: 2-D, 3x3, stride 1,
    /// dilation 1, one group, at least ``minimumChannels`` in and out.
    static func applies(to attributes: Convolution, window: [Int], inputChannels: Int, outputChannels: Int) -> Bool {
        attributes.rank == 2 && attributes.layout == .channelsFirst && window == [1, 3, 3] && attributes.groups == 1
            && attributes.strides.allSatisfy { $0 == 1 } && attributes.dilations.allSatisfy { $0 == 1 }
            && inputChannels >= minimumChannels && outputChannels >= minimumChannels
    }

    /// The tile size for a layer of `inputChannels` and `outputChannels` (``largeTileChannels``).
    static func tile(inputChannels: Int, outputChannels: Int) -> WinogradTile {
        max(inputChannels, outputChannels) <= largeTileChannels ? .f4x4 : .f2x2
    }

    /// The Winograd form of `direct` with `tile` (by default as ``tile(inputChannels:outputChannels:)``
    /// chooses), or `nil` when ``applies(to:window:inputChannels:outputChannels:)`` says no; its
    /// filters are transformed on `parallel`'s cores.
    init?(_ direct: ChannelsFirstConvolutionKernel, tile: WinogradTile? = nil,
          minimumOutputs: Int = Self.defaultMinimumOutputs, blockBudget: Int = Self.defaultBlockBudget,
          parallel: Parallel = .allCores) {
        let cin = direct.inputChannelsPerGroup, cout = direct.outputChannels
        guard Self.applies(to: direct.attributes, window: direct.window, inputChannels: cin, outputChannels: cout) else {
            return nil
        }
        let tile = tile ?? Self.tile(inputChannels: cin, outputChannels: cout)
        self.tile = tile
        self.direct = direct
        self.minimumOutputs = minimumOutputs
        self.blockBudget = blockBudget
        // Filters are transformed from prepared weights only (a streaming runner keeps no copy).
        guard let values = direct.kernel.preparedValues else { return nil }
        filters = tile.transformFilters(values, outputs: cout, inputs: cin, parallel: parallel)
    }

    /// A residual Add after the layer is applied with the tail, block by block of the output
    /// (the direct kernel it falls back to takes one too).
    var acceptsResidual: Bool { true }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsFirst: x.shape)
        let cin = direct.inputChannelsPerGroup, cout = direct.outputChannels
        guard x.shape.count == 4, xs.c == cin else { return try direct.run(inputs, context, tail: tail) }
        let a = direct.attributes
        let axes = try ConvolutionKernel.windows(input: xs.spatial, window: direct.window, strides: a.strides,
                                                 dilations: a.dilations, padding: a.padding, rank: a.rank)
        let m = tile.m
        let g = Geometry(tile: tile, images: xs.n, cin: cin, cout: cout, height: xs.spatial[1], width: xs.spatial[2],
                         outHeight: axes[1].output, outWidth: axes[2].output, padTop: axes[1].padBefore,
                         padLeft: axes[2].padBefore, tilesY: (axes[1].output + m - 1) / m,
                         tilesX: (axes[2].output + m - 1) / m, blockBudget: blockBudget)
        guard g.images * g.positions >= max(minimumOutputs, 1) else { return try direct.run(inputs, context, tail: tail) }
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: cout)
        let out = try context.allocate(os.channelsFirstShape(rank: 4))
        let ops = try Epilogue.bind(Epilogue.layerOps(bias: direct.bias, activation: a.activation) + tail, to: out)
        let blockOps = ChannelsFirstEpilogue.blockOps(ops)
        filters.withUnsafeBufferPointer { u in
            let rowsPerBlock = g.rowsPerBlock
            let parts = min(context.parallel.workers, g.rows / rowsPerBlock)
            // One shared block of every tile only while it stays within bounds (large images with
            // many channels go through blocks however few tiles each holds).
            let sharedFloats = tile.elements * (cin + cout) * g.tiles
            if context.parallel.workers == 1 || parts >= 2 && g.blockTiles >= Self.minimumBlockTiles
                || sharedFloats > Self.sharedBlocks * blockBudget {
                blocked(g, parts: max(parts, 1), rowsPerBlock: rowsPerBlock, x: x.pointer, u: u.baseAddress!,
                        out: out.pointer, ops: blockOps ?? [], context)
            } else {
                shared(g, x: x.pointer, u: u.baseAddress!, out: out.pointer, ops: blockOps ?? [], context)
            }
        }
        if blockOps == nil {
            ChannelsFirstEpilogue.apply(ops, output: out.pointer, images: os.n, channels: cout, positions: os.positions, parallel: context.parallel)
        }
        return out
    }

    /// The sizes one run works with. Tile rows are numbered across images: row `r` is tile row
    /// `r % tilesY` of image `r / tilesY`.
    private struct Geometry {
        let tile: WinogradTile
        let images: Int, cin: Int, cout: Int, height: Int, width: Int, outHeight: Int, outWidth: Int
        let padTop: Int, padLeft: Int, tilesY: Int, tilesX: Int, blockBudget: Int
        /// Tile rows of all images.
        var rows: Int { images * tilesY }
        /// Tiles of all images.
        var tiles: Int { rows * tilesX }
        /// Output positions per image.
        var positions: Int { outHeight * outWidth }
        /// Tiles a block of `blockBudget` floats of `V` and `M` holds.
        var blockTiles: Int { blockBudget / (tile.elements * (cin + cout)) }
        /// Whole tile rows per block (at least one).
        var rowsPerBlock: Int { max(1, min(rows, blockTiles / tilesX)) }
        /// The leading dimension of `V` and `M` rows for a block of `tiles` tiles (room for the
        /// transforms' whole SIMD steps past the end, rounded to 64 bytes).
        func leading(_ tiles: Int) -> Int { (tiles + WinogradInputTransform.step + 15) / 16 * 16 }

        /// Transforms tile rows `rows` (a block whose `V` has leading dimension `ld`) of input
        /// channels `channels` into `v`.
        func transformInput(_ x: UnsafePointer<Float>, rows: Range<Int>, channels: Range<Int>,
                            v: UnsafeMutablePointer<Float>, ld: Int, staging: UnsafeMutablePointer<Float>) {
            let m = tile.m
            for c in channels {
                for r in rows {
                    let n = r / tilesY, ty = r % tilesY
                    WinogradInputTransform.transformRow(tile, plane: x + (n * cin + c) * height * width, height: height,
                                                        width: width, top: ty * m - padTop, left: -padLeft,
                                                        tiles: tilesX, staging: staging,
                                                        v: v + c * ld + (r - rows.lowerBound) * tilesX, planeStride: cin * ld)
                }
            }
        }

        /// `M[ξ] = U[ξ] x V[ξ]` for `elements` of a block of `count` tiles.
        func multiply(_ u: UnsafePointer<Float>, v: UnsafePointer<Float>, product: UnsafeMutablePointer<Float>,
                      ld: Int, count: Int, elements: Range<Int>) {
            for e in elements {
                BLAS.sgemm(m: cout, n: count, k: cin, a: u + e * cout * cin, lda: cin, b: v + e * cin * ld, ldb: ld,
                           c: product + e * cout * ld, ldc: ld)
            }
        }

        /// Transforms `M` of tile rows `rows` (leading dimension `ld`) of output channels `channels`
        /// into `out`, then applies `ops` to what was written.
        func transformOutput(_ product: UnsafePointer<Float>, rows: Range<Int>, channels: Range<Int>, ld: Int,
                             out: UnsafeMutablePointer<Float>, ops: [PostOp], staging: UnsafeMutablePointer<Float>) {
            let m = tile.m
            for o in channels {
                for r in rows {
                    let n = r / tilesY, ty = r % tilesY
                    WinogradOutputTransform.transformRow(tile, product: product + o * ld + (r - rows.lowerBound) * tilesX,
                                                         planeStride: cout * ld, tiles: tilesX, staging: staging,
                                                         plane: out + (n * cout + o) * positions, height: outHeight,
                                                         width: outWidth, top: ty * m)
                }
            }
            guard !ops.isEmpty else { return }
            // Each image's rows of the block: output rows [first tile row * m, end * m) clipped.
            var r = rows.lowerBound
            while r < rows.upperBound {
                let n = r / tilesY, end = min(rows.upperBound, (n + 1) * tilesY)
                let lo = (r - n * tilesY) * m, hi = min((end - n * tilesY) * m, outHeight)
                ChannelsFirstEpilogue.applyBlock(ops, image: out + n * cout * positions, channels: channels,
                                                 columns: (lo * outWidth)..<(hi * outWidth), positions: positions)
                r = end
            }
        }
    }

    /// Many tiles: `parts` cores each take a range of tile rows and work through it in blocks of
    /// `rowsPerBlock` rows with their own `V`, `M` and staging.
    private func blocked(_ g: Geometry, parts: Int, rowsPerBlock: Int, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                         out: UnsafeMutablePointer<Float>, ops: [PostOp], _ context: KernelContext) {
        let ld = g.leading(rowsPerBlock * g.tilesX), e = tile.elements
        let scratch = (0..<parts).map { _ in
            (v: context.pool.take(e * g.cin * ld), product: context.pool.take(e * g.cout * ld),
             input: context.pool.take(WinogradInputTransform.stagingCount(tile, tiles: g.tilesX)),
             output: context.pool.take(WinogradOutputTransform.stagingCount(tile, tiles: g.tilesX)))
        }
        defer {
            for s in scratch { [s.v, s.product, s.input, s.output].forEach(context.pool.release) }
        }
        context.parallel.forEach(parts) { p in
            let s = scratch[p]
            var lo = g.rows * p / parts
            let end = g.rows * (p + 1) / parts
            while lo < end {
                let hi = min(end, lo + rowsPerBlock), count = (hi - lo) * g.tilesX
                g.transformInput(x, rows: lo..<hi, channels: 0..<g.cin, v: s.v.base, ld: ld, staging: s.input.base)
                g.multiply(u, v: s.v.base, product: s.product.base, ld: ld, count: count, elements: 0..<e)
                g.transformOutput(s.product.base, rows: lo..<hi, channels: 0..<g.cout, ld: ld, out: out, ops: ops,
                                  staging: s.output.base)
                lo = hi
            }
        }
    }

    /// Few tiles: one block of every tile row; the cores share out the input channels to transform,
    /// then the products by `ξ`, then the output channels to transform back (with the tail).
    private func shared(_ g: Geometry, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                        out: UnsafeMutablePointer<Float>, ops: [PostOp], _ context: KernelContext) {
        let ld = g.leading(g.tiles), e = tile.elements
        let v = context.pool.take(e * g.cin * ld), product = context.pool.take(e * g.cout * ld)
        // Several parts per core (channels of 8 or more), so a core another process holds does
        // not leave the other waiting with half the work.
        let parts = context.parallel.parts(min(g.cin, g.cout), minimum: 8)
        let staging = (0..<parts).map { _ in
            (input: context.pool.take(WinogradInputTransform.stagingCount(tile, tiles: g.tilesX)),
             output: context.pool.take(WinogradOutputTransform.stagingCount(tile, tiles: g.tilesX)))
        }
        defer {
            context.pool.release(v)
            context.pool.release(product)
            for s in staging { [s.input, s.output].forEach(context.pool.release) }
        }
        context.parallel.forEach(parts) { p in
            g.transformInput(x, rows: 0..<g.rows, channels: (g.cin * p / parts)..<(g.cin * (p + 1) / parts),
                             v: v.base, ld: ld, staging: staging[p].input.base)
        }
        context.parallel.forEach(e) { element in
            g.multiply(u, v: v.base, product: product.base, ld: ld, count: g.tiles, elements: element..<(element + 1))
        }
        context.parallel.forEach(parts) { p in
            g.transformOutput(product.base, rows: 0..<g.rows, channels: (g.cout * p / parts)..<(g.cout * (p + 1) / parts),
                              ld: ld, out: out, ops: ops, staging: staging[p].output.base)
        }
    }
}
