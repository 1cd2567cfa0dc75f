/// Ops computing positions: `Trilu` (triangle of matrices), `OneHot`, `NonZero`.
extension ShapeOps {
    /// `Trilu`: the upper (`upper=1`, default) or lower triangle of the last two axes, from the
    /// `k`-th diagonal (input 1, default 0) on; the rest zeros.
    static let trilu: KernelBuilder = { a in
        let upper = try a.int("upper", 1) != 0
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard x.rank >= 2 else { throw OpError.invalid(op: inputs.op, problem: "input of shape \(x.shape) has fewer than 2 dimensions") }
            let k = try inputs.scalar(1).map { Int(max(min($0, 1e15), -1e15)) } ?? 0
            let rows = x.shape[x.rank - 2], columns = x.shape[x.rank - 1]
            var indices = Array(0..<x.count)
            if rows * columns > 0 {
                for position in indices.indices {
                    let j = position % columns, i = (position / columns) % rows
                    let kept = upper ? j - i >= k : j - i <= k
                    if !kept { indices[position] = -1 }
                }
            }
            return [x.picking(indices, shape: x.shape)]
        }
    }

    /// `OneHot`: for each index (negative ones count from `depth`), `depth` values along `axis`
    /// (default -1, a new axis): `values[1]` at the index, `values[0]` elsewhere.
    static let oneHot: KernelBuilder = { a in
        let axis = try a.int("axis", -1)
        return kernel(a) { inputs in
            let idx = try inputs.required(0), values = try inputs.required(2)
            guard let depthValue = try inputs.scalar(1), depthValue.isFinite, depthValue >= 1 else {
                throw OpError.invalid(op: inputs.op, problem: "depth must be one positive number")
            }
            guard values.count == 2 else {
                throw OpError.invalid(op: inputs.op, problem: "values of shape \(values.shape) (it must hold [off, on])")
            }
            let depth = Int(min(depthValue, 1e15))
            let rank = idx.rank + 1
            let ax = axis < 0 ? axis + rank : axis
            guard ax >= 0 && ax < rank else { throw OpError.invalid(op: inputs.op, problem: "axis \(axis) is out of range for rank \(rank)") }
            var shape = idx.shape
            shape.insert(depth, at: ax)
            let count = try Shapes.count(shape, op: inputs.op)
            let positions = idx.storage.integers
            let outer = idx.shape[..<ax].reduce(1, *), inner = idx.shape[ax...].reduce(1, *)
            var picks = [Int]()
            picks.reserveCapacity(count)
            for o in 0..<outer {
                for d in 0..<depth {
                    for j in 0..<inner {
                        let p = positions[o * inner + j]
                        let resolved = p < 0 ? p + Int64(depth) : p
                        picks.append(resolved == Int64(d) ? 1 : 0)
                    }
                }
            }
            return [values.picking(picks, shape: shape)]
        }
    }

    /// `NonZero`: the coordinates of the non-zero elements (C order) as an int64 `(rank, n)` matrix
    /// (a scalar counts as one element of one dimension, as in NumPy).
    static let nonZero: KernelBuilder = { a in
        kernel(a) { inputs in
            let x = try inputs.required(0)
            let nonZero: [Bool]
            switch x.storage {
            case .int(let v): nonZero = v.map { $0 != 0 }
            case .bool(let v): nonZero = v
            default: nonZero = x.storage.doubles.map { $0 != 0 }
            }
            let shape = x.rank == 0 ? [1] : x.shape
            let strides = Shapes.strides(shape)
            let found = nonZero.indices.filter { nonZero[$0] }
            var coordinates = [Int64](repeating: 0, count: shape.count * found.count)
            for (column, position) in found.enumerated() {
                for axis in shape.indices {
                    coordinates[axis * found.count + column] = Int64((position / strides[axis]) % shape[axis])
                }
            }
            return [HostTensor(shape: [shape.count, found.count], integers: coordinates)]
        }
    }
}
