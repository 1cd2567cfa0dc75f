/// Matrix products: `Gemm` (`alpha · A' · B' + beta · C`, with `transA`, `transB` and C broadcast
/// unidirectionally to the result) and `MatMul` (NumPy `matmul`: batch axes broadcast, 1-D
/// operands promoted and their axis removed again).
///
/// float16, bfloat16 and float32 compute in `Float`, float64 in `Double`, integer types in `Int64`
/// wrapping (see ``MatrixProduct``).
enum MatrixOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "Gemm": gemm,
        "MatMul": { _ in ClosureKernel { values in
            let inputs = OpInputs("MatMul", values)
            return [try matMul(try inputs.required(0), try inputs.required(1))]
        } },
    ]

    // MARK: - Gemm

    /// The Gemm kernel for `a`'s `alpha`, `beta`, `transA` and `transB` (defaults 1, 1, 0, 0).
    static func gemm(_ a: OpAttributes) throws -> any TensorKernel {
        let alpha = try a.float("alpha", 1), beta = try a.float("beta", 1)
        let transA = try a.int("transA", 0) != 0, transB = try a.int("transB", 0) != 0
        return ClosureKernel { values in
            let inputs = OpInputs("Gemm", values)
            let x = try inputs.required(0), y = try inputs.required(1)
            return [try gemm(x, y, inputs.optional(2), alpha: alpha, beta: beta, transA: transA, transB: transB)]
        }
    }

    /// `alpha · op(x) · op(y) + beta · c` (c broadcast to the product's shape; absent: 0).
    static func gemm(_ x: HostTensor, _ y: HostTensor, _ c: HostTensor?, alpha: Double, beta: Double,
                     transA: Bool, transB: Bool) throws -> HostTensor {
        guard x.rank == 2, y.rank == 2 else {
            throw OpError.invalid(op: "Gemm", problem: "A of shape \(x.shape) and B of shape \(y.shape) must both be 2-D")
        }
        try sameType("Gemm", [x, y] + (c.map { [$0] } ?? []))
        let (m, k) = transA ? (x.shape[1], x.shape[0]) : (x.shape[0], x.shape[1])
        let (kB, n) = transB ? (y.shape[1], y.shape[0]) : (y.shape[0], y.shape[1])
        guard k == kB else {
            throw OpError.invalid(op: "Gemm", problem: "A of shape \(x.shape) (transA \(transA ? 1 : 0)) and B of shape \(y.shape) (transB \(transB ? 1 : 0)) do not share an inner dimension")
        }
        let shape = [m, n]
        let count = try Shapes.count(shape, op: "Gemm")
        // C is broadcast one way: to the product's shape, never widening it.
        var bias: [Int]?
        if let c {
            guard c.rank <= 2, (try? Shapes.broadcast([c.shape, shape], op: "Gemm")) == shape else {
                throw OpError.invalid(op: "Gemm", problem: "C of shape \(c.shape) does not broadcast to the result's shape \(shape)")
            }
            bias = Shapes.broadcastIndices(from: c.shape, to: shape)
        }
        switch (x.storage, y.storage) {
        case let (.float(p), .float(q)):
            var out = product(p, q, m: m, n: n, k: k, transA: transA, transB: transB, count: count)
            if case .float(let cv)? = c?.storage, let bias { scale(&out, alpha: Float(alpha), beta: Float(beta), cv, bias) }
            else { scale(&out, alpha: Float(alpha), beta: 0, [], nil) }
            return HostTensor(dtype: x.dtype, shape: shape, storage: .float(out))
        case let (.double(p), .double(q)):
            var out = product(p, q, m: m, n: n, k: k, transA: transA, transB: transB, count: count)
            if case .double(let cv)? = c?.storage, let bias { scale(&out, alpha: alpha, beta: beta, cv, bias) }
            else { scale(&out, alpha: alpha, beta: 0, [], nil) }
            return HostTensor(dtype: x.dtype, shape: shape, storage: .double(out))
        case let (.int(p), .int(q)):
            guard let intAlpha = Int64(exactly: alpha), let intBeta = Int64(exactly: beta) else {
                throw OpError.unsupported(op: "Gemm", reason: "on \(x.dtype) with a fractional alpha \(alpha) or beta \(beta)")
            }
            let a = transA ? transposed(p, rows: x.shape[0], columns: x.shape[1]) : p
            let b = transB ? transposed(q, rows: y.shape[0], columns: y.shape[1]) : q
            var out = [Int64](repeating: 0, count: count)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                guard let ab = ap.baseAddress, let bb = bp.baseAddress, let ob = op.baseAddress else { return }
                MatrixProduct.accumulateWrapping(m: m, n: n, k: k, ab, lda: k, bb, ldb: n, ob, ldc: n)
            } } }
            let cv: [Int64]? = if case .int(let v)? = c?.storage { v } else { nil }
            for i in out.indices {
                out[i] = out[i] &* intAlpha
                if let cv, let bias { out[i] = out[i] &+ cv[bias[i]] &* intBeta }
            }
            return HostTensor(dtype: x.dtype, shape: shape, storage: .int(out))
        default:
            throw OpError.invalid(op: "Gemm", problem: "operands of type \(x.dtype) are not numbers")
        }
    }

    /// The `m × n` product of `p` and `q`, each transposed first when asked.
    static func product<T: BinaryFloatingPoint>(_ p: [T], _ q: [T], m: Int, n: Int, k: Int,
                                                transA: Bool, transB: Bool, count: Int) -> [T] {
        let a = transA ? transposed(p, rows: k, columns: m) : p
        let b = transB ? transposed(q, rows: n, columns: k) : q
        var out = [T](repeating: 0, count: count)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
            guard let ab = ap.baseAddress, let bb = bp.baseAddress, let ob = op.baseAddress else { return }
            MatrixProduct.accumulate(m: m, n: n, k: k, ab, lda: k, bb, ldb: n, ob, ldc: n)
        } } }
        return out
    }

    /// `out = alpha · out + beta · c[bias[i]]` (no C term when `bias` is nil).
    static func scale<T: BinaryFloatingPoint>(_ out: inout [T], alpha: T, beta: T, _ c: [T], _ bias: [Int]?) {
        if let bias {
            for i in out.indices { out[i] = alpha * out[i] + beta * c[bias[i]] }
        } else if alpha != 1 {
            for i in out.indices { out[i] *= alpha }
        }
    }

    /// The `columns × rows` transpose of a row-major `rows × columns` matrix.
    static func transposed<T>(_ v: [T], rows: Int, columns: Int) -> [T] {
        guard let first = v.first else { return v }
        var out = [T](repeating: first, count: v.count)
        for r in 0..<rows {
            for c in 0..<columns { out[c * rows + r] = v[r * columns + c] }
        }
        return out
    }

    /// Refuses operands of different dtypes.
    static func sameType(_ op: String, _ tensors: [HostTensor]) throws {
        guard let first = tensors.first, tensors.allSatisfy({ $0.dtype == first.dtype }) else {
            throw OpError.invalid(op: op, problem: "operands of types \(tensors.map { "\($0.dtype)" }.joined(separator: ", ")) (they must match)")
        }
    }

    // MARK: - MatMul

    /// NumPy `matmul(x, y)`: the last two axes multiply, the ones before broadcast; a 1-D `x` is a
    /// row and a 1-D `y` a column, their axis removed from the result.
    static func matMul(_ x: HostTensor, _ y: HostTensor) throws -> HostTensor {
        try sameType("MatMul", [x, y])
        guard x.rank >= 1, y.rank >= 1 else {
            throw OpError.invalid(op: "MatMul", problem: "operands of shapes \(x.shape) and \(y.shape) (scalars do not multiply)")
        }
        let xShape = x.rank == 1 ? [1] + x.shape : x.shape
        let yShape = y.rank == 1 ? y.shape + [1] : y.shape
        let m = xShape[xShape.count - 2], k = xShape[xShape.count - 1]
        let kY = yShape[yShape.count - 2], n = yShape[yShape.count - 1]
        guard k == kY else {
            throw OpError.invalid(op: "MatMul", problem: "operands of shapes \(x.shape) and \(y.shape) do not share an inner dimension")
        }
        let xBatch = Array(xShape.dropLast(2)), yBatch = Array(yShape.dropLast(2))
        let batch = try Shapes.broadcast([xBatch, yBatch], op: "MatMul")
        var shape = batch
        if x.rank > 1 { shape.append(m) }
        if y.rank > 1 { shape.append(n) }
        let count = try Shapes.count(batch + [m, n], op: "MatMul")
        let xMatrices = Shapes.broadcastIndices(from: xBatch, to: batch)
        let yMatrices = Shapes.broadcastIndices(from: yBatch, to: batch)
        switch (x.storage, y.storage) {
        case let (.float(p), .float(q)):
            let out = batchedProduct(p, q, m: m, n: n, k: k, xMatrices, yMatrices, count: count)
            return HostTensor(dtype: x.dtype, shape: shape, storage: .float(out))
        case let (.double(p), .double(q)):
            let out = batchedProduct(p, q, m: m, n: n, k: k, xMatrices, yMatrices, count: count)
            return HostTensor(dtype: x.dtype, shape: shape, storage: .double(out))
        case let (.int(p), .int(q)):
            var out = [Int64](repeating: 0, count: count)
            p.withUnsafeBufferPointer { ap in q.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                guard let ab = ap.baseAddress, let bb = bp.baseAddress, let ob = op.baseAddress else { return }
                for (index, (i, j)) in zip(xMatrices, yMatrices).enumerated() {
                    MatrixProduct.accumulateWrapping(m: m, n: n, k: k, ab + i * m * k, lda: k, bb + j * k * n, ldb: n,
                                                     ob + index * m * n, ldc: n)
                }
            } } }
            return HostTensor(dtype: x.dtype, shape: shape, storage: .int(out))
        default:
            throw OpError.invalid(op: "MatMul", problem: "operands of type \(x.dtype) are not numbers")
        }
    }

    /// The products of matrix `xMatrices[b]` of `p` (`m × k`) and `yMatrices[b]` of `q` (`k × n`),
    /// one after another.
    static func batchedProduct<T: BinaryFloatingPoint>(_ p: [T], _ q: [T], m: Int, n: Int, k: Int,
                                                       _ xMatrices: [Int], _ yMatrices: [Int], count: Int) -> [T] {
        var out = [T](repeating: 0, count: count)
        p.withUnsafeBufferPointer { ap in q.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
            guard let ab = ap.baseAddress, let bb = bp.baseAddress, let ob = op.baseAddress else { return }
            for (index, (i, j)) in zip(xMatrices, yMatrices).enumerated() {
                MatrixProduct.accumulate(m: m, n: n, k: k, ab + i * m * k, lda: k, bb + j * k * n, ldb: n,
                                         ob + index * m * n, ldc: n)
            }
        } } }
        return out
    }
}
