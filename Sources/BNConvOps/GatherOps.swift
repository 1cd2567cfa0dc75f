/// Indexed reads: `Gather`, `GatherElements`.
extension ShapeOps {
    /// The integer elements of `indices` (an index input), each resolved against `dim`
    /// (negative ones count from the end), or an error naming the first out of range.
    static func resolvedIndices(_ indices: HostTensor, dim: Int, op: String) throws -> [Int] {
        guard case .int(let v) = indices.storage else {
            throw OpError.invalid(op: op, problem: "indices of type \(indices.dtype) (they must be int32 or int64)")
        }
        return try v.map { i in
            let r = i < 0 ? i + Int64(dim) : i
            guard r >= 0 && r < Int64(dim) else {
                throw OpError.invalid(op: op, problem: "index \(i) is out of range for a dimension of \(dim)")
            }
            return Int(r)
        }
    }

    /// `Gather`: the slices of `data` along `axis` (default 0) at `indices`; the output's shape
    /// is data's with that axis replaced by the indices' shape.
    static let gather: KernelBuilder = { a in
        let axis = try a.int("axis", 0)
        return kernel(a) { inputs in
            let data = try inputs.required(0), idx = try inputs.required(1)
            guard data.rank > 0 else { throw OpError.invalid(op: inputs.op, problem: "cannot gather from a scalar") }
            let ax = try Shapes.axis(axis, rank: data.rank, op: inputs.op)
            let dim = data.shape[ax]
            let picks = try resolvedIndices(idx, dim: dim, op: inputs.op)
            let shape = Array(data.shape[..<ax]) + idx.shape + Array(data.shape[(ax + 1)...])
            let count = try Shapes.count(shape, op: inputs.op)
            let outer = data.shape[..<ax].reduce(1, *)
            let inner = data.shape[(ax + 1)...].reduce(1, *)
            var indices = [Int]()
            indices.reserveCapacity(count)
            for o in 0..<outer {
                for p in picks {
                    let base = (o * dim + p) * inner
                    for j in 0..<inner { indices.append(base + j) }
                }
            }
            return [data.picking(indices, shape: shape)]
        }
    }

    /// `GatherElements`: output element at position `p` is `data` at `p` with its `axis`
    /// coordinate replaced by `indices[p]`; the output has the indices' shape.
    static let gatherElements: KernelBuilder = { a in
        let axis = try a.int("axis", 0)
        return kernel(a) { inputs in
            let data = try inputs.required(0), idx = try inputs.required(1)
            guard data.rank > 0, idx.rank == data.rank else {
                throw OpError.invalid(op: inputs.op, problem: "indices of shape \(idx.shape) for data of shape \(data.shape) (the ranks must match)")
            }
            let ax = try Shapes.axis(axis, rank: data.rank, op: inputs.op)
            for i in data.shape.indices where i != ax && idx.shape[i] > data.shape[i] {
                throw OpError.invalid(op: inputs.op, problem: "indices of shape \(idx.shape) exceed data of shape \(data.shape) along axis \(i)")
            }
            let picks = try resolvedIndices(idx, dim: data.shape[ax], op: inputs.op)
            var strides = Shapes.strides(data.shape)
            let axisStride = strides[ax]
            strides[ax] = 0
            let base = Shapes.indexMap(idx.shape) { strides }
            let indices = zip(base, picks).map { $0 + $1 * axisStride }
            return [data.picking(indices, shape: idx.shape)]
        }
    }
}
