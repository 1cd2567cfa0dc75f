/// Max and average pooling on channels-first values, one `(d, h, w)` plane at a time, with the
/// semantics of ``PoolKernel``: padded cells are ignored by max and left out of the average's count.
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
        let out = context.allocate(os.channelsFirstShape(rank: x.shape.count))
        let (od, oh, ow) = (axes[0].output, axes[1].output, axes[2].output)
        let (id, ih, iw) = (xs.spatial[0], xs.spatial[1], xs.spatial[2])
        let inPlane = xs.positions, outPlane = os.positions
        let isMax = attributes.kind == .max
        func range(_ y: Int, _ a: WindowAxis, _ size: Int, _ extent: Int) -> Range<Int> {
            let start = y * a.stride - a.padBefore
            let lo = max(start, 0), hi = min(start + extent, size)
            return lo..<max(hi, lo)
        }
        // Window bounds per output index along each axis, worked out once per call.
        let dRanges = (0..<od).map { range($0, axes[0], id, window[0]) }
        let hRanges = (0..<oh).map { range($0, axes[1], ih, window[1]) }
        let wLo = (0..<ow).map { range($0, axes[2], iw, window[2]).lowerBound }
        let wHi = (0..<ow).map { range($0, axes[2], iw, window[2]).upperBound }
        Parallel.ranges(xs.n * xs.c, costPerItem: outPlane * window.reduce(1, *)) { planes in
            wLo.withUnsafeBufferPointer { wLo in
                wHi.withUnsafeBufferPointer { wHi in
                    for plane in planes {
                        let src = x.pointer + plane * inPlane
                        var dst = out.pointer + plane * outPlane
                        for ds in dRanges {
                            for hs in hRanges {
                                let cellsDH = ds.count * hs.count
                                for yw in 0..<ow {
                                    let lo = wLo[yw], hi = wHi[yw]
                                    var acc: Float = isMax ? -.infinity : 0
                                    for dd in ds {
                                        for hh in hs {
                                            let row = src + (dd * ih + hh) * iw
                                            if isMax {
                                                for ww in lo..<hi { acc = max(acc, row[ww]) }
                                            } else {
                                                for ww in lo..<hi { acc += row[ww] }
                                            }
                                        }
                                    }
                                    let cells = cellsDH * (hi - lo)
                                    dst.pointee = isMax || cells == 0 ? acc : acc * (1 / Float(cells))
                                    dst += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
