/// Keras merge layers (Add, Subtract, Multiply, Maximum, Minimum, Average) over two or more inputs,
/// broadcasting size-1 dimensions; Average is the sum divided by the input count, as Keras computes it.
struct ElementwiseKernel: EngineKernel {
    /// Which merge.
    let kind: ElementwiseKind

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        guard !inputs.isEmpty, kind != .subtract || inputs.count == 2 else {
            throw EngineError.shapeMismatch("\(kind.rawValue) inputs", expected: [2], got: [inputs.count])
        }
        guard let shape = Broadcast.shape(inputs.map(\.shape)) else {
            throw EngineError.shapeMismatch("\(kind.rawValue) operands broadcast", expected: inputs[0].shape,
                                            got: inputs.dropFirst().first?.shape ?? [])
        }
        let reuse = inputs[0].shape == shape ? 0 : inputs.firstIndex { $0.shape == shape } ?? 0
        let out = context.output(shape, reusing: reuse, of: inputs)
        let order = [reuse] + inputs.indices.filter { $0 != reuse }
        let firstIn = inputs[order[0]]
        if firstIn.pointer != out.pointer {
            Broadcast.combine(output: out.pointer, outShape: shape, input: firstIn.pointer, inShape: firstIn.shape) { o, i, n, s in
                for j in 0..<n { o[j] = i[j * s] }
            }
        }
        for k in order.dropFirst() {
            let input = inputs[k]
            let flipped = kind == .subtract && k == 0   // out holds operand 1: out = in0 - out
            Broadcast.combine(output: out.pointer, outShape: shape, input: input.pointer, inShape: input.shape) { o, i, n, s in
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
        if kind == .average {
            let inv = 1 / Float(inputs.count)
            for j in 0..<out.count { out.pointer[j] *= inv }
        }
        return out
    }
}
