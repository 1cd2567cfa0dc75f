import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras `Rescaling`: `y = x * scale + offset`, scalars or per-channel (last axis) vectors.
struct RescalingKernel: EngineKernel {
    /// Scale: one value or one per last-axis channel.
    let scale: [Float]
    /// Offset: one value or one per last-axis channel.
    let offset: [Float]

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let c = x.shape.last ?? 1
        for v in [scale, offset] where v.count != 1 && v.count != c {
            throw EngineError.shapeMismatch("rescaling scale/offset per channel", expected: [c], got: [v.count])
        }
        let y = try context.output(x.shape, reusing: 0, of: inputs)
        let rows = x.count / max(c, 1)
        let s = scale.count == 1 ? Array(repeating: scale[0], count: c) : scale
        let o = offset.isEmpty ? Array(repeating: 0, count: c) : (offset.count == 1 ? Array(repeating: offset[0], count: c) : offset)
        context.parallel.ranges(rows, costPerItem: c) { range in
            for r in range {
                for j in 0..<c { y.pointer[r * c + j] = x.pointer[r * c + j] * s[j] + o[j] }
            }
        }
        return y
    }
}
