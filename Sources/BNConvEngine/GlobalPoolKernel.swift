import BNConvCore
import BNConvModel
import BNConvInterop

/// Global max or average pooling over every spatial axis, channels-last or channels-first, with or
/// without the spatial axes kept as size 1.
struct GlobalPoolKernel: EngineKernel {
    /// Attributes.
    let attributes: GlobalPool

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        guard x.shape.count >= 3 else {
            throw EngineError.shapeMismatch("global pooling input", expected: [-1, -1, -1], got: x.shape)
        }
        let rank = x.shape.count
        let channelAxis = attributes.layout.channelAxis(rank: rank)
        let n = x.shape[0], c = x.shape[channelAxis]
        let positions = x.count / max(n * c, 1)
        var shape = [n, c]
        if attributes.keepDims {
            shape = x.shape.enumerated().map { $0.offset == 0 || $0.offset == channelAxis ? $0.element : 1 }
        }
        let out = try context.allocate(shape)
        let isMax = attributes.kind == .max
        let first = attributes.layout == .channelsFirst
        context.parallel.ranges(n, costPerItem: positions * c) { range in
            for b in range {
                let o = out.pointer + b * c
                let xp = x.pointer + b * positions * c
                if first {
                    for ch in 0..<c {
                        let p = xp + ch * positions
                        var acc: Float = isMax ? -Float.infinity : 0
                        for i in 0..<positions { acc = isMax ? max(acc, p[i]) : acc + p[i] }
                        o[ch] = isMax ? acc : acc / Float(positions)
                    }
                } else {
                    o.update(repeating: isMax ? -Float.infinity : 0, count: c)
                    for i in 0..<positions {
                        let p = xp + i * c
                        if isMax { for ch in 0..<c { o[ch] = max(o[ch], p[ch]) } } else { for ch in 0..<c { o[ch] += p[ch] } }
                    }
                    if !isMax { let inv = 1 / Float(positions); for ch in 0..<c { o[ch] *= inv } }
                }
            }
        }
        return out
    }
}
