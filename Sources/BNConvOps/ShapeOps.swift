/// Shape and layout operators: `Shape Size Reshape Flatten Squeeze Unsqueeze Identity Dropout`
/// here; `Transpose DepthToSpace SpaceToDepth` (TransposeOps.swift), `Concat Split`
/// (ConcatSplitOps.swift), `Slice` (SliceOp.swift), `Gather GatherElements` (GatherOps.swift),
/// `Pad` (PadOp.swift), `Expand Tile` (TileExpandOps.swift), `Constant ConstantOfShape Range`
/// (ConstantOps.swift), `Trilu OneHot NonZero` (IndexOps.swift).
///
/// Every one is an index map over any dtype (``HostStorage/gathered(_:fill:)``), exact for the
/// int64 shape arithmetic of real graphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape),
/// scalars and empty tensors included.
enum ShapeOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "Shape": shape, "Size": size, "Reshape": reshape, "Flatten": flatten,
        "Squeeze": squeeze, "Unsqueeze": unsqueeze, "Identity": identity, "Dropout": dropout,
        "Transpose": transpose, "DepthToSpace": depthToSpace, "SpaceToDepth": spaceToDepth,
        "Concat": concat, "Split": split, "Slice": slice,
        "Gather": gather, "GatherElements": gatherElements,
        "Pad": pad, "Expand": expand, "Tile": tile,
        "Constant": constant, "ConstantOfShape": constantOfShape, "Range": range,
        "Trilu": trilu, "OneHot": oneHot, "NonZero": nonZero,
    ]

    // MARK: Shared helpers

    /// A kernel running `body` on the op's inputs (checked access naming the op).
    static func kernel(_ a: OpAttributes, _ body: @escaping @Sendable (OpInputs) throws -> [HostTensor]) -> any TensorKernel {
        let op = a.op
        return ClosureKernel { values in try body(OpInputs(op, values)) }
    }

    /// Input `i` (called `name` in errors) read as a list of integers, when given: it must be an
    /// integer tensor of at most one dimension.
    static func integerList(_ inputs: OpInputs, _ i: Int, _ name: String) throws -> [Int]? {
        guard let t = inputs.optional(i) else { return nil }
        guard case .int(let v) = t.storage else {
            throw OpError.invalid(op: inputs.op, problem: "input '\(name)' is \(t.dtype), not an integer tensor")
        }
        guard t.rank <= 1 else {
            throw OpError.invalid(op: inputs.op, problem: "input '\(name)' must be 1-D, not shape \(t.shape)")
        }
        return v.map { Int(truncatingIfNeeded: $0) }
    }

    /// Axes resolved against `rank` (negative ones count from the end), each once.
    static func distinctAxes(_ axes: [Int], rank: Int, op: String) throws -> [Int] {
        let resolved = try axes.map { axis -> Int in
            let r = axis < 0 ? axis + rank : axis
            guard r >= 0 && r < rank else {
                throw OpError.invalid(op: op, problem: "axis \(axis) is out of range for rank \(rank)")
            }
            return r
        }
        guard Set(resolved).count == resolved.count else {
            throw OpError.invalid(op: op, problem: "axes \(axes) repeat an axis")
        }
        return resolved
    }

    /// An int64 tensor of `values`, 1-D (or a scalar when `scalar`).
    static func int64Tensor(_ values: [Int], scalar: Bool = false) -> HostTensor {
        HostTensor(shape: scalar ? [] : [values.count], integers: values.map { Int64($0) })
    }

    // MARK: Shape, Size

    /// `Shape`: the input's dimensions as int64, `start`/`end` (opset 15) clamped to the rank.
    static let shape: KernelBuilder = { a in
        let start = try a.int("start", 0), end = try a.int("end")
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            let rank = x.rank
            func clamped(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
            let s = clamped(start), e = clamped(end ?? rank)
            return [int64Tensor(s < e ? Array(x.shape[s..<e]) : [])]
        }
    }

    /// `Size`: the input's element count as an int64 scalar.
    static let size: KernelBuilder = { a in
        kernel(a) { inputs in [int64Tensor([try inputs.required(0).count], scalar: true)] }
    }

    // MARK: Reshape, Flatten, Squeeze, Unsqueeze

    /// `Reshape`: the target shape from the `shape` attribute (before opset 5) or input 1; 0 copies
    /// the input's dimension (unless `allowzero`, opset 14), one -1 is inferred.
    static let reshape: KernelBuilder = { a in
        let allowZero = try a.int("allowzero", 0) != 0
        let attributeShape = a.opset < 5 ? try a.ints("shape") : nil
        if a.opset < 5 && attributeShape == nil { throw a.invalid("attribute 'shape' is missing") }
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard let target = try attributeShape ?? integerList(inputs, 1, "shape") else {
                throw OpError.invalid(op: inputs.op, problem: "input 1 (shape) is missing")
            }
            return [x.reshaped(try reshapedShape(x.shape, target: target, allowZero: allowZero, op: inputs.op))]
        }
    }

    /// The shape `target` describes for a tensor of `shape` (ONNX Reshape's 0 and -1 rules).
    static func reshapedShape(_ shape: [Int], target: [Int], allowZero: Bool, op: String) throws -> [Int] {
        var out = target
        var inferred: Int?
        for (i, d) in target.enumerated() {
            if d == 0 && !allowZero {
                guard i < shape.count else {
                    throw OpError.invalid(op: op, problem: "shape \(target) copies dimension \(i) of a rank-\(shape.count) input")
                }
                out[i] = shape[i]
            } else if d == -1 {
                guard inferred == nil else { throw OpError.invalid(op: op, problem: "shape \(target) has more than one -1") }
                inferred = i
            } else if d < -1 {
                throw OpError.invalid(op: op, problem: "shape \(target) has a negative dimension")
            }
        }
        if allowZero && inferred != nil && target.contains(0) {
            throw OpError.invalid(op: op, problem: "shape \(target) has both 0 and -1 with allowzero=1")
        }
        let count = shape.reduce(1, *)
        if let i = inferred {
            out[i] = 1
            let known = try Shapes.count(out, op: op)
            guard known > 0, count % known == 0 else {
                throw OpError.invalid(op: op, problem: "cannot reshape \(shape) to \(target): the -1 dimension is not determined")
            }
            out[i] = count / known
        }
        guard try Shapes.count(out, op: op) == count else {
            throw OpError.invalid(op: op, problem: "cannot reshape \(shape) (\(count) elements) to \(target)")
        }
        return out
    }

    /// `Flatten`: the input as a matrix, dimensions before `axis` (default 1) outer, the rest inner.
    static let flatten: KernelBuilder = { a in
        let axis = try a.int("axis", 1)
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            let resolved = axis < 0 ? axis + x.rank : axis
            guard resolved >= 0 && resolved <= x.rank else {
                throw OpError.invalid(op: inputs.op, problem: "axis \(axis) is out of range for rank \(x.rank)")
            }
            let outer = x.shape[..<resolved].reduce(1, *), inner = x.shape[resolved...].reduce(1, *)
            return [x.reshaped([outer, inner])]
        }
    }

    /// `Squeeze`: drops the dimensions of size 1 listed in `axes` (attribute before opset 13,
    /// input 1 from 13), or every dimension of size 1 without axes.
    static let squeeze: KernelBuilder = { a in
        let attributeAxes = a.opset < 13 ? try a.ints("axes") : nil
        let fromInput = a.opset >= 13
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            let given = fromInput ? try integerList(inputs, 1, "axes") : attributeAxes
            let axes: Set<Int>
            if let given {
                let resolved = try distinctAxes(given, rank: x.rank, op: inputs.op)
                for axis in resolved where x.shape[axis] != 1 {
                    throw OpError.invalid(op: inputs.op, problem: "cannot squeeze axis \(axis) of size \(x.shape[axis]) (shape \(x.shape))")
                }
                axes = Set(resolved)
            } else {
                axes = Set(x.shape.indices.filter { x.shape[$0] == 1 })
            }
            return [x.reshaped(x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] })]
        }
    }

    /// `Unsqueeze`: inserts dimensions of size 1 at `axes` (of the output; attribute before
    /// opset 13, input 1 from 13).
    static let unsqueeze: KernelBuilder = { a in
        let attributeAxes = a.opset < 13 ? try a.ints("axes") : nil
        if a.opset < 13 && attributeAxes == nil { throw a.invalid("attribute 'axes' is missing") }
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard let given = try attributeAxes ?? integerList(inputs, 1, "axes") else {
                throw OpError.invalid(op: inputs.op, problem: "input 1 (axes) is missing")
            }
            let rank = x.rank + given.count
            let inserted = Set(try distinctAxes(given, rank: rank, op: inputs.op))
            var source = x.shape.makeIterator()
            let shape = (0..<rank).map { inserted.contains($0) ? 1 : source.next()! }
            return [x.reshaped(shape)]
        }
    }

    // MARK: Identity, Dropout

    /// `Identity`: the input.
    static let identity: KernelBuilder = { a in
        kernel(a) { inputs in [try inputs.required(0)] }
    }

    /// `Dropout` at inference: the input, and a mask of all true (of the input's dtype before
    /// opset 10). Training mode (`training_mode`, input 2 from opset 12; `is_test=0` before opset
    /// 7) is refused unless the ratio is 0, since its output is random.
    static let dropout: KernelBuilder = { a in
        let attributeRatio = try a.float("ratio", 0.5)
        if a.opset < 7, try a.int("is_test") == 0, attributeRatio != 0 {
            throw a.unsupported("in training mode (is_test=0) with ratio \(attributeRatio)")
        }
        let boolMask = a.opset >= 10
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            if a.opset >= 12, let training = try inputs.scalar(2), training != 0 {
                let ratio = try inputs.scalar(1) ?? 0.5
                if ratio != 0 {
                    throw OpError.unsupported(op: inputs.op, reason: "in training mode (training_mode=true, ratio \(ratio): a random output)")
                }
            }
            let mask = boolMask ? HostTensor.filled(1, dtype: .bool, shape: x.shape) : HostTensor.filled(1, dtype: x.dtype, shape: x.shape)
            return [x, mask]
        }
    }
}
