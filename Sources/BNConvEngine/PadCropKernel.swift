import BNConvCore
import BNConvModel
import BNConvInterop

/// Zero padding or cropping of the spatial axes, `(before, after)` per spatial axis, either layout.
struct PadCropKernel: EngineKernel {
    /// Amounts per spatial axis.
    let pairs: [Pair]
    /// Where the channel axis is.
    let layout: DataLayout
    /// `true` pads with zeros, `false` crops.
    let pads: Bool

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let rank = x.shape.count
        let spatial = layout.spatialAxes(rank: rank)
        guard rank >= 3, pairs.count == spatial.count else {
            throw EngineError.shapeMismatch("\(pads ? "padding" : "cropping") pairs per spatial axis", expected: [spatial.count], got: [pairs.count])
        }
        var shape = x.shape
        var before = [Int](repeating: 0, count: rank)
        for (i, a) in spatial.enumerated() {
            let delta = pairs[i].before + pairs[i].after
            shape[a] += pads ? delta : -delta
            before[a] = pairs[i].before
            guard shape[a] >= 0 else { throw EngineError.shapeMismatch("cropping", expected: [delta], got: x.shape) }
        }
        let out = try context.allocate(shape)
        let zero = [Int](repeating: 0, count: rank)
        if pads {
            out.pointer.update(repeating: 0, count: out.count)
            RegionCopy.copy(size: x.shape, source: x.pointer, sourceShape: x.shape, sourceStart: zero,
                            destination: out.pointer, destinationShape: shape, destinationStart: before, parallel: context.parallel)
        } else {
            RegionCopy.copy(size: shape, source: x.pointer, sourceShape: x.shape, sourceStart: before,
                            destination: out.pointer, destinationShape: shape, destinationStart: zero, parallel: context.parallel)
        }
        return out
    }
}
