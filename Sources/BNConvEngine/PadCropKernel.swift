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
            // Amounts come from the file: checked arithmetic, so 2^62 is an error, not a trap.
            let (delta, o1) = pairs[i].before.addingReportingOverflow(pairs[i].after)
            let (size, o2) = pads ? shape[a].addingReportingOverflow(delta) : shape[a].subtractingReportingOverflow(delta)
            guard !o1, !o2, pairs[i].before >= 0, pairs[i].after >= 0, size >= 0 else {
                throw EngineError.shapeMismatch(pads ? "padding" : "cropping", expected: [pairs[i].before, pairs[i].after], got: x.shape)
            }
            shape[a] = size
            before[a] = pairs[i].before
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
