/// How two operands broadcast (NumPy rules) to their common output shape, walked as rows.
///
/// The output (C order) splits into `rowCount` runs of `rowLength` elements; axes that move
/// both operands alike are merged first, so equal shapes are one row and `[N,C,H,W] * [N,C,1,1]`
/// is N*C rows of H*W. Within a row each operand moves 1 element per output element, or 0 where it
/// is broadcast: ``apply(_:_:_:)`` has a plain loop for each case, which the compiler vectorizes
/// once a kernel's closure literal is inlined into it.
struct BroadcastRows {
    /// The broadcast output shape.
    let shape: [Int]
    /// The output's element count.
    let count: Int
    /// The elements in one row.
    let rowLength: Int
    /// How far operand a moves per element of a row (0 or 1).
    let aStep: Int
    /// How far operand b moves per element of a row (0 or 1).
    let bStep: Int
    /// Where each row starts in operand a.
    let aStarts: [Int]
    /// Where each row starts in operand b.
    let bStarts: [Int]

    /// The walk of `aShape` and `bShape` broadcast together, or an error naming `op` when they do
    /// not broadcast or the output would be too large.
    init(_ aShape: [Int], _ bShape: [Int], op: String) throws {
        shape = try Shapes.broadcast([aShape, bShape], op: op)
        count = try Shapes.count(shape, op: op)
        let rank = shape.count
        let outShape = shape
        func outputStrides(_ own: [Int]) -> [Int] {
            var strides = Array(repeating: 0, count: rank)
            let ownStrides = Shapes.strides(own)
            let offset = rank - own.count
            for i in own.indices where own[i] != 1 { strides[i + offset] = ownStrides[i] }
            return strides
        }
        let a = outputStrides(aShape), b = outputStrides(bShape)
        // Merge each axis into the one outside it when both operands step across them as one.
        var dims: [Int] = [], aStrides: [Int] = [], bStrides: [Int] = []
        for i in 0..<rank where outShape[i] != 1 {
            if let last = dims.last, aStrides[aStrides.count - 1] == a[i] * outShape[i],
               bStrides[bStrides.count - 1] == b[i] * outShape[i] {
                dims[dims.count - 1] = last * outShape[i]
                aStrides[aStrides.count - 1] = a[i]
                bStrides[bStrides.count - 1] = b[i]
            } else {
                dims.append(outShape[i])
                aStrides.append(a[i])
                bStrides.append(b[i])
            }
        }
        guard count > 0 else {
            (rowLength, aStep, bStep, aStarts, bStarts) = (0, 0, 0, [], [])
            return
        }
        guard let inner = dims.last else {
            (rowLength, aStep, bStep, aStarts, bStarts) = (1, 0, 0, [0], [0])
            return
        }
        rowLength = inner
        aStep = aStrides[aStrides.count - 1]
        bStep = bStrides[bStrides.count - 1]
        let outer = Array(dims.dropLast())
        let rows = count / inner
        var aStarts = [Int](repeating: 0, count: rows), bStarts = [Int](repeating: 0, count: rows)
        var counter = Array(repeating: 0, count: outer.count)
        var ia = 0, ib = 0
        for r in 0..<rows {
            aStarts[r] = ia
            bStarts[r] = ib
            var axis = outer.count - 1
            while axis >= 0 {
                counter[axis] += 1
                ia += aStrides[axis]
                ib += bStrides[axis]
                if counter[axis] < outer[axis] { break }
                ia -= aStrides[axis] * counter[axis]
                ib -= bStrides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        self.aStarts = aStarts
        self.bStarts = bStarts
    }

    /// The number of rows.
    var rowCount: Int { aStarts.count }

    /// `f(a[i], b[i])` for every output element, `a` and `b` being the operands' elements.
    @inline(__always)
    func apply<A, B, R>(_ a: [A], _ b: [B], _ f: (A, B) -> R) -> [R] {
        let n = rowLength
        return [R](unsafeUninitializedCapacity: count) { out, initialized in
            guard let base = out.baseAddress else { initialized = 0; return }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    var o = base
                    for r in 0..<aStarts.count {
                        let x = pa.baseAddress! + aStarts[r], y = pb.baseAddress! + bStarts[r]
                        switch (aStep, bStep) {
                        case (1, 1): for j in 0..<n { (o + j).initialize(to: f(x[j], y[j])) }
                        case (1, _): let v = y[0]; for j in 0..<n { (o + j).initialize(to: f(x[j], v)) }
                        case (_, 1): let u = x[0]; for j in 0..<n { (o + j).initialize(to: f(u, y[j])) }
                        default: let u = x[0], v = y[0]; for j in 0..<n { (o + j).initialize(to: f(u, v)) }
                        }
                        o += n
                    }
                }
            }
            initialized = count
        }
    }
}
