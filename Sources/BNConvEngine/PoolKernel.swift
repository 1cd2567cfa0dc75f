import BNConvCore
import BNConvModel
import BNConvInterop

/// Max and average pooling on channels-last values with TensorFlow's semantics: SAME padding puts
/// the odd cell after; padded cells are ignored by max and excluded from the average's count.
struct PoolKernel: EngineKernel {
    /// Attributes.
    let attributes: Pool

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let xs = try SpatialShape(channelsLast: x.shape)
        let rank = x.shape.count - 2
        let window = SpatialShape.pad3(attributes.poolSize, fill: 1)
        let axes = try ConvolutionKernel.windows(input: xs.spatial, window: window, strides: attributes.strides,
                                                 dilations: [1], padding: attributes.padding, rank: rank)
        let os = SpatialShape(n: xs.n, spatial: axes.map(\.output), c: xs.c)
        let out = try context.allocate(os.shape(rank: x.shape.count))
        let (od, oh, ow) = (axes[0].output, axes[1].output, axes[2].output)
        let (id, ih, iw) = (xs.spatial[0], xs.spatial[1], xs.spatial[2])
        let c = xs.c
        let isMax = attributes.kind == .max
        context.parallel.ranges(xs.n * od * oh, costPerItem: ow * c * window.reduce(1, *)) { range in
            for row in range {
                let yh = row % oh, t = row / oh
                let yd = t % od, n = t / od
                let dLo = max(yd * axes[0].stride - axes[0].padBefore, 0)
                let dHi = min(yd * axes[0].stride - axes[0].padBefore + window[0], id)
                let hLo = max(yh * axes[1].stride - axes[1].padBefore, 0)
                let hHi = min(yh * axes[1].stride - axes[1].padBefore + window[1], ih)
                for yw in 0..<ow {
                    let wLo = max(yw * axes[2].stride - axes[2].padBefore, 0)
                    let wHi = min(yw * axes[2].stride - axes[2].padBefore + window[2], iw)
                    let o = out.pointer + (row * ow + yw) * c
                    o.update(repeating: isMax ? -Float.infinity : 0, count: c)
                    var cells = 0
                    for dd in dLo..<max(dHi, dLo) {
                        for hh in hLo..<max(hHi, hLo) {
                            for ww in wLo..<max(wHi, wLo) {
                                let xp = x.pointer + (((n * id + dd) * ih + hh) * iw + ww) * c
                                if isMax {
                                    for j in 0..<c { o[j] = max(o[j], xp[j]) }
                                } else {
                                    for j in 0..<c { o[j] += xp[j] }
                                }
                                cells += 1
                            }
                        }
                    }
                    if !isMax && cells > 0 {
                        let inv = 1 / Float(cells)
                        for j in 0..<c { o[j] *= inv }
                    }
                }
            }
        }
        return out
    }
}
