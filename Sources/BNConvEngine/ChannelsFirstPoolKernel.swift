import BNConvCore
import BNConvModel
import BNConvInterop

/// Max and average pooling on channels-first values, one `(d, h, w)` plane at a time, with the
/// semantics of ``PoolKernel``: padded cells are ignored by max and left out of the average's count.
///
/// An output line is worked out at once: for each input line under the window and each window tap
/// along `w`, the tap's values are combined into the whole line of accumulators (a loop over
/// output positions the compiler vectorizes), only over the positions where the tap falls inside
/// the input. Each output still combines its cells in the order `d`, `h`, `w`, as one window at a
/// time would.
struct ChannelsFirstPoolKernel: EngineKernel {
    /// Attributes.
    let attributes: Pool

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsFirst: x.shape)
        let rank = x.shape.count - 2
        let window = SpatialShape.pad3(attributes.poolSize, fill: 1)
        let axes = try ConvolutionKernel.windows(input: xs.spatial, window: window, strides: attributes.strides,
                                                 dilations: [1], padding: attributes.padding, rank: rank)
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: xs.c)
        let out = try context.allocate(os.channelsFirstShape(rank: x.shape.count))
        let ow = axes[2].output
        let (ih, iw) = (xs.spatial[1], xs.spatial[2])
        let inPlane = xs.positions, outPlane = os.positions
        let isMax = attributes.kind == .max
        func range(_ y: Int, _ a: WindowAxis, _ size: Int, _ extent: Int) -> Range<Int> {
            let start = y * a.stride - a.padBefore
            let lo = max(start, 0), hi = min(start + extent, size)
            return lo..<max(hi, lo)
        }
        // Window bounds per output index along d and h, and per tap along w the output positions
        // it is inside the input for, worked out once per call.
        let dRanges = (0..<axes[0].output).map { range($0, axes[0], xs.spatial[0], window[0]) }
        let hRanges = (0..<axes[1].output).map { range($0, axes[1], ih, window[1]) }
        let sw = axes[2].stride, pw = axes[2].padBefore
        let taps = (0..<window[2]).map { c -> Range<Int> in
            // 0 <= yw * sw + c - pw < iw
            let lo = Swift.max(0, (pw - c + sw - 1) / sw)
            let hi = Swift.min(ow, iw - 1 - c + pw < 0 ? 0 : (iw - 1 - c + pw) / sw + 1)
            return lo..<Swift.max(lo, hi)
        }
        // Cells per output along w (the average's divisor, with the d-h cell count).
        let wCells = (0..<ow).map { range($0, axes[2], iw, window[2]).count }
        context.parallel.ranges(xs.n * xs.c, costPerItem: outPlane * window.reduce(1, *)) { planes in
            wCells.withUnsafeBufferPointer { wCells in
                for plane in planes {
                    let src = x.pointer + plane * inPlane
                    var dst = out.pointer + plane * outPlane
                    for ds in dRanges {
                        for hs in hRanges {
                            dst.update(repeating: isMax ? -.infinity : 0, count: ow)
                            for dd in ds {
                                for hh in hs {
                                    let line = src + (dd * ih + hh) * iw
                                    for c in taps.indices where !taps[c].isEmpty {
                                        let span = taps[c]
                                        Self.combine(into: dst, line + (span.lowerBound * sw + c - pw), stride: sw,
                                                     positions: span, max: isMax)
                                    }
                                }
                            }
                            if !isMax {
                                let cellsDH = ds.count * hs.count
                                for yw in 0..<ow {
                                    let cells = cellsDH * wCells[yw]
                                    if cells > 0 { dst[yw] *= 1 / Float(cells) }
                                }
                            }
                            dst += ow
                        }
                    }
                }
            }
        }
        return out
    }

    /// `acc[yw] = max(acc[yw], v)` (or `+= v`) for `yw` in `positions`, `v` read from `first` on
    /// with step `stride`.
    @inline(__always)
    private static func combine(into acc: UnsafeMutablePointer<Float>, _ first: UnsafePointer<Float>, stride: Int,
                                positions: Range<Int>, max isMax: Bool) {
        let a = acc + positions.lowerBound, n = positions.count
        switch (isMax, stride) {
        case (true, 1): for j in 0..<n { a[j] = Swift.max(a[j], first[j]) }
        case (true, 2): for j in 0..<n { a[j] = Swift.max(a[j], first[2 * j]) }
        case (true, _): for j in 0..<n { a[j] = Swift.max(a[j], first[stride * j]) }
        case (false, 1): for j in 0..<n { a[j] += first[j] }
        case (false, 2): for j in 0..<n { a[j] += first[2 * j] }
        case (false, _): for j in 0..<n { a[j] += first[stride * j] }
        }
    }
}
