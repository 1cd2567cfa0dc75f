import BNConvCore
import BNConvModel
import BNConvInterop

/// Concatenation along one axis (batch included; negative counts from the end).
struct ConcatKernel: EngineKernel {
    /// The axis.
    let axis: Int

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        guard let first = inputs.first else { throw EngineError.shapeMismatch("concatenate inputs", expected: [1], got: [0]) }
        let rank = first.shape.count
        let a = Op.resolveAxis(axis, rank: rank)
        guard a >= 0, a < rank else { throw EngineError.badAxis(axis, shape: first.shape, context: "concatenate axis") }
        var shape = first.shape
        shape[a] = 0
        for input in inputs {
            var other = input.shape
            guard other.count == rank else { throw EngineError.shapeMismatch("concatenate operand", expected: first.shape, got: other) }
            shape[a] += other[a]
            other[a] = first.shape[a]
            guard other == first.shape else { throw EngineError.shapeMismatch("concatenate operand", expected: first.shape, got: input.shape) }
        }
        let out = try context.allocate(shape)
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let outRow = shape[a] * inner
        context.parallel.ranges(outer, costPerItem: outRow) { range in
            for o in range {
                var offset = 0
                for input in inputs {
                    let piece = input.shape[a] * inner
                    (out.pointer + o * outRow + offset).update(from: input.pointer + o * piece, count: piece)
                    offset += piece
                }
            }
        }
        return out
    }
}
