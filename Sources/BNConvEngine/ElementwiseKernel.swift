import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras merge layers (Add, Subtract, Multiply, Maximum, Minimum, Average) over two or more inputs,
/// broadcasting size-1 dimensions; Average is the sum divided by the input count, as Keras computes it.
/// Same-shaped inputs run in cache-sized blocks on every core, with any fused activations (a ResNet's
/// Add -> ReLU) applied to each block right after it is combined.
struct ElementwiseKernel: FusableKernel {
    /// Which merge.
    let kind: ElementwiseKind
    /// Elements per block of the same-shape path.
    static let block = 4096

    /// A merge has no channel axis of its own: only activations may be fused after it.
    var acceptsChannelAffine: Bool { false }

    func run(_ inputs: [EngineValue], _ context: KernelContext, tail: [PostOp]) throws -> EngineValue {
        guard !inputs.isEmpty, kind != .subtract || inputs.count == 2 else {
            throw EngineError.shapeMismatch("\(kind.rawValue) inputs", expected: [2], got: [inputs.count])
        }
        guard let shape = Broadcast.shape(inputs.map(\.shape)) else {
            throw EngineError.shapeMismatch("\(kind.rawValue) operands broadcast", expected: inputs[0].shape,
                                            got: inputs.dropFirst().first?.shape ?? [])
        }
        let reuse = inputs[0].shape == shape ? 0 : inputs.firstIndex { $0.shape == shape } ?? 0
        let out = try context.output(shape, reusing: reuse, of: inputs)
        let order = [reuse] + inputs.indices.filter { $0 != reuse }
        let firstIn = inputs[order[0]]
        let kind = self.kind
        let scale = 1 / Float(inputs.count)
        if inputs.allSatisfy({ $0.shape == shape }) {
            // A merge's tail holds only activations and element programs (``FusionPlan``): each
            // applies to an element whatever its position, so to any block.
            context.parallel.ranges(out.count, costPerItem: inputs.count + tail.count) { range in
                var lo = range.lowerBound
                while lo < range.upperBound {
                    let n = min(ElementwiseKernel.block, range.upperBound - lo)
                    let o = out.pointer + lo
                    if firstIn.pointer != out.pointer { o.update(from: firstIn.pointer + lo, count: n) }
                    for k in order.dropFirst() {
                        ElementwiseKernel.combine(kind, o, inputs[k].pointer + lo, n, 1, flipped: kind == .subtract && k == 0)
                    }
                    if kind == .average { for j in 0..<n { o[j] *= scale } }
                    for op in tail {
                        switch op {
                        case .activation(let a): ActivationFunction.applySerially(a, input: o, output: o, count: n)
                        case .program(let program): program.apply(o, count: n)
                        default: preconditionFailure("a merge's fused tail holds only activations and element programs")
                        }
                    }
                    lo += n
                }
            }
            return out
        }
        if firstIn.pointer != out.pointer {
            Broadcast.combine(output: out.pointer, outShape: shape, input: firstIn.pointer, inShape: firstIn.shape) { o, i, n, s in
                for j in 0..<n { o[j] = i[j * s] }
            }
        }
        for k in order.dropFirst() {
            let input = inputs[k]
            let flipped = kind == .subtract && k == 0   // out holds operand 1: out = in0 - out
            Broadcast.combine(output: out.pointer, outShape: shape, input: input.pointer, inShape: input.shape) { o, i, n, s in
                ElementwiseKernel.combine(kind, o, i, n, s, flipped: flipped)
            }
        }
        if kind == .average {
            for j in 0..<out.count { out.pointer[j] *= scale }
        }
        if !tail.isEmpty {
            let last = shape.last ?? 1
            Epilogue.apply(tail, output: out.pointer, rows: out.count / max(last, 1), columns: last, parallel: context.parallel)
        }
        return out
    }

    /// `o[j] = op(o[j], i[j * s])` for `n` elements (`flipped`: `i - o` for subtract).
    @inline(__always)
    static func combine(_ kind: ElementwiseKind, _ o: UnsafeMutablePointer<Float>, _ i: UnsafePointer<Float>, _ n: Int,
                        _ s: Int, flipped: Bool) {
        switch kind {
        case .add, .average: for j in 0..<n { o[j] += i[j * s] }
        case .subtract:
            if flipped { for j in 0..<n { o[j] = i[j * s] - o[j] } } else { for j in 0..<n { o[j] -= i[j * s] } }
        case .multiply: for j in 0..<n { o[j] *= i[j * s] }
        case .maximum: for j in 0..<n { o[j] = max(o[j], i[j * s]) }
        case .minimum: for j in 0..<n { o[j] = min(o[j], i[j * s]) }
        }
    }
}
