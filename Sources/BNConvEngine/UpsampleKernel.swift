import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Upsampling of the spatial axes of a channels-last value by integer factors: nearest (Keras
/// `UpSampling`: each cell repeated) or bilinear (`tf.image.resize` with half-pixel centres:
/// source `(o + 0.5) / f - 0.5`, clamped at the borders).
struct UpsampleKernel: EngineKernel {
    /// Factor per spatial axis.
    let size: [Int]
    /// `"nearest"` or `"bilinear"`.
    let bilinear: Bool

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsLast: x.shape)
        let f = SpatialShape.pad3(size, fill: 1)
        // Factors come from the file: a product that overflows is an error, not a trap.
        let spatial = try zip(xs.spatial, f).map { n, factor -> Int in
            let (p, overflow) = n.multipliedReportingOverflow(by: factor)
            guard !overflow, factor >= 1 else { throw EngineError.shapeMismatch("upsampling size", expected: size, got: x.shape) }
            return p
        }
        let os = SpatialShape(n: xs.n, spatial: spatial, c: xs.c)
        let out = try context.allocate(os.shape(rank: x.shape.count))
        let c = xs.c
        // Per axis: for each output index, two source indices and the weight of the second.
        let taps: [(lo: [Int], hi: [Int], frac: [Float])] = (0..<3).map { a in
            let n = os.spatial[a], l = xs.spatial[a]
            var lo = [Int](repeating: 0, count: n), hi = lo, frac = [Float](repeating: 0, count: n)
            for o in 0..<n {
                if bilinear {
                    let s = (Double(o) + 0.5) / Double(f[a]) - 0.5
                    let fl = floor(s)
                    lo[o] = min(max(Int(fl), 0), l - 1)
                    hi[o] = min(max(Int(ceil(s)), 0), l - 1)
                    frac[o] = Float(s - fl)
                } else {
                    lo[o] = o / f[a]; hi[o] = lo[o]
                }
            }
            return (lo, hi, frac)
        }
        let (od, oh, ow) = (os.spatial[0], os.spatial[1], os.spatial[2])
        let (id, ih, iw) = (xs.spatial[0], xs.spatial[1], xs.spatial[2])
        context.parallel.ranges(xs.n * od * oh, costPerItem: ow * c) { range in
            for row in range {
                let yh = row % oh, t = row / oh
                let yd = t % od, n = t / od
                for yw in 0..<ow {
                    let o = out.pointer + (row * ow + yw) * c
                    if !bilinear {
                        let src = x.pointer + (((n * id + taps[0].lo[yd]) * ih + taps[1].lo[yh]) * iw + taps[2].lo[yw]) * c
                        o.update(from: src, count: c)
                        continue
                    }
                    o.update(repeating: 0, count: c)
                    let d = (taps[0].lo[yd], taps[0].hi[yd], taps[0].frac[yd])
                    let h = (taps[1].lo[yh], taps[1].hi[yh], taps[1].frac[yh])
                    let w = (taps[2].lo[yw], taps[2].hi[yw], taps[2].frac[yw])
                    for corner in 0..<8 {
                        let dW = corner & 4 == 0 ? 1 - d.2 : d.2
                        let hW = corner & 2 == 0 ? 1 - h.2 : h.2
                        let wW = corner & 1 == 0 ? 1 - w.2 : w.2
                        let weight = dW * hW * wW
                        if weight == 0 { continue }
                        let dIdx = corner & 4 == 0 ? d.0 : d.1
                        let hIdx = corner & 2 == 0 ? h.0 : h.1
                        let wIdx = corner & 1 == 0 ? w.0 : w.1
                        let src = x.pointer + (((n * id + dIdx) * ih + hIdx) * iw + wIdx) * c
                        for j in 0..<c { o[j] += weight * src[j] }
                    }
                }
            }
        }
        return out
    }
}
