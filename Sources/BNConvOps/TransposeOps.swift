/// Axis permutations: `Transpose`, and `DepthToSpace` / `SpaceToDepth` (a reshape to six
/// dimensions, a transpose, a reshape back).
extension ShapeOps {
    /// `Transpose`: output axis `i` is input axis `perm[i]` (default: the axes reversed).
    static let transpose: KernelBuilder = { a in
        let perm = try a.ints("perm")
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            let permutation = perm ?? Array(x.shape.indices.reversed())
            guard permutation.count == x.rank, Set(permutation) == Set(x.shape.indices) else {
                throw OpError.invalid(op: inputs.op, problem: "perm \(permutation) is not a permutation of the \(x.rank) axes")
            }
            let (indices, shape) = Shapes.permutedIndexMap(x.shape, permutation: permutation)
            return [x.picking(indices, shape: shape)]
        }
    }

    /// `DepthToSpace`: `(N, C, H, W)` to `(N, C/b², H·b, W·b)`, the channels read depth-column-row
    /// (`DCR`, default) or column-row-depth (`CRD`).
    static let depthToSpace: KernelBuilder = { a in
        let blocksize = try a.int("blocksize")
        let mode = try a.string("mode", "DCR")
        guard let b = blocksize, b >= 1 else { throw a.invalid("attribute 'blocksize' must be a positive integer") }
        guard mode == "DCR" || mode == "CRD" else { throw a.unsupported("with mode '\(mode)'") }
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard x.rank == 4 else { throw OpError.invalid(op: inputs.op, problem: "input of shape \(x.shape) is not 4-D") }
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            guard c % (b * b) == 0 else {
                throw OpError.invalid(op: inputs.op, problem: "\(c) channels do not divide into blocks of \(b)x\(b)")
            }
            let depth = c / (b * b)
            let view = mode == "DCR" ? [n, b, b, depth, h, w] : [n, depth, b, b, h, w]
            let permutation = mode == "DCR" ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3]
            let (indices, _) = Shapes.permutedIndexMap(view, permutation: permutation)
            return [x.picking(indices, shape: [n, depth, h * b, w * b])]
        }
    }

    /// `SpaceToDepth`: `(N, C, H, W)` to `(N, C·b², H/b, W/b)`, each `b`x`b` block into channels.
    static let spaceToDepth: KernelBuilder = { a in
        guard let b = try a.int("blocksize"), b >= 1 else { throw a.invalid("attribute 'blocksize' must be a positive integer") }
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard x.rank == 4 else { throw OpError.invalid(op: inputs.op, problem: "input of shape \(x.shape) is not 4-D") }
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            guard h % b == 0, w % b == 0 else {
                throw OpError.invalid(op: inputs.op, problem: "spatial size \(h)x\(w) is not a multiple of blocksize \(b)")
            }
            let view = [n, c, h / b, b, w / b, b]
            let (indices, _) = Shapes.permutedIndexMap(view, permutation: [0, 3, 5, 1, 2, 4])
            return [x.picking(indices, shape: [n, c * b * b, h / b, w / b])]
        }
    }
}
