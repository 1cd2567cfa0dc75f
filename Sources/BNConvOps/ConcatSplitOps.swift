/// Joining and cutting along one axis: `Concat`, `Split`.
extension ShapeOps {
    /// `Concat`: the inputs (same dtype and rank, equal but for `axis`) joined along `axis`
    /// (required from opset 4; 1 before).
    static let concat: KernelBuilder = { a in
        let axisAttribute = try a.int("axis")
        if axisAttribute == nil && a.opset >= 4 { throw a.invalid("attribute 'axis' is missing") }
        let axis = axisAttribute ?? 1
        return kernel(a) { inputs in
            let parts = try inputs.values.indices.map { try inputs.required($0) }
            guard let first = parts.first else { throw OpError.invalid(op: inputs.op, problem: "no inputs") }
            guard first.rank > 0 else { throw OpError.invalid(op: inputs.op, problem: "cannot concatenate scalars") }
            let ax = try Shapes.axis(axis, rank: first.rank, op: inputs.op)
            for p in parts {
                guard p.dtype == first.dtype else {
                    throw OpError.invalid(op: inputs.op, problem: "inputs of types \(first.dtype) and \(p.dtype) (they must match)")
                }
                guard p.rank == first.rank,
                      p.shape.indices.allSatisfy({ $0 == ax || p.shape[$0] == first.shape[$0] }) else {
                    throw OpError.invalid(op: inputs.op, problem: "shapes \(parts.map(\.shape)) differ other than along axis \(ax)")
                }
            }
            var shape = first.shape
            shape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
            let count = try Shapes.count(shape, op: inputs.op)
            let outer = first.shape[..<ax].reduce(1, *)
            let inner = first.shape[(ax + 1)...].reduce(1, *)
            // Every input contributes a run of shape[ax]·inner elements per outer index.
            var indices = [Int]()
            indices.reserveCapacity(count)
            let runs = parts.map { $0.shape[ax] * inner }
            var starts = [Int](), offset = 0
            for p in parts { starts.append(offset); offset += p.count }
            for o in 0..<outer {
                for (run, start) in zip(runs, starts) {
                    let base = start + o * run
                    for j in 0..<run { indices.append(base + j) }
                }
            }
            guard let joined = HostStorage.joined(parts.map(\.storage)) else { return [first] }
            return [HostTensor(dtype: first.dtype, shape: shape, storage: joined.gathered(indices))]
        }
    }

    /// `Split`: the input cut along `axis` (default 0) into parts of the sizes `split` (attribute
    /// before opset 13, input 1 from 13) or `num_outputs` parts (opset 18; the last one smaller when
    /// the dimension does not divide).
    ///
    /// Without `split`, the number of parts comes from `num_outputs`: a reader maps a Split of an
    /// earlier opset with the node's output count as `num_outputs` (equal parts).
    static let split: KernelBuilder = { a in
        let axis = try a.int("axis", 0)
        let attributeSplit = a.opset < 13 ? try a.ints("split") : nil
        let numOutputs = try a.int("num_outputs")
        if let numOutputs, numOutputs < 1 { throw a.invalid("num_outputs \(numOutputs) is not positive") }
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard x.rank > 0 else { throw OpError.invalid(op: inputs.op, problem: "cannot split a scalar") }
            let ax = try Shapes.axis(axis, rank: x.rank, op: inputs.op)
            let dim = x.shape[ax]
            var sizes: [Int]
            if let given = try attributeSplit ?? integerList(inputs, 1, "split") {
                sizes = given
                guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == dim else {
                    throw OpError.invalid(op: inputs.op, problem: "split \(given) does not add up to dimension \(dim) of axis \(ax)")
                }
            } else if let n = numOutputs {
                let chunk = (dim + n - 1) / n
                sizes = Array(repeating: chunk, count: n)
                sizes[n - 1] = dim - chunk * (n - 1)
                guard sizes[n - 1] >= 0 else {
                    throw OpError.invalid(op: inputs.op, problem: "dimension \(dim) does not split into \(n) parts of \(chunk)")
                }
            } else {
                throw OpError.unsupported(op: inputs.op, reason: "without 'split' or 'num_outputs' (the number of outputs is not known)")
            }
            let outer = x.shape[..<ax].reduce(1, *)
            let inner = x.shape[(ax + 1)...].reduce(1, *)
            var start = 0
            return sizes.map { size in
                var shape = x.shape
                shape[ax] = size
                var indices = [Int]()
                indices.reserveCapacity(outer * size * inner)
                for o in 0..<outer {
                    let base = (o * dim + start) * inner
                    for j in 0..<(size * inner) { indices.append(base + j) }
                }
                start += size
                return x.picking(indices, shape: shape)
            }
        }
    }
}
