/// Shape arithmetic shared by the ops: strides, axes, NumPy broadcasting, checked element counts.
public enum Shapes {
    /// C-order strides of `shape` (in elements).
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step &*= shape[axis]
        }
        return strides
    }

    /// `axis` (possibly negative) resolved against `rank`, or an error naming `op`.
    public static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < max(rank, 1) else {
            throw OpError.invalid(op: op, problem: "axis \(axis) is out of range for rank \(rank)")
        }
        return resolved
    }

    /// The element count of `shape`, or an error when a dimension is negative or the count overflows
    /// or exceeds 2^40 (no op builds a tensor that large).
    public static func count(_ shape: [Int], op: String) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw OpError.invalid(op: op, problem: "shape \(shape) has a negative dimension") }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= 1 << 40 else { throw OpError.invalid(op: op, problem: "shape \(shape) holds too many elements") }
            n = p
        }
        return n
    }

    /// The NumPy broadcast of `shapes` (multidirectional broadcasting, ONNX docs/Broadcasting.md).
    public static func broadcast(_ shapes: [[Int]], op: String) throws -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var out = Array(repeating: 1, count: rank)
        for shape in shapes {
            let offset = rank - shape.count
            for (i, d) in shape.enumerated() {
                let j = i + offset
                if out[j] == 1 { out[j] = d } else if d != 1 && d != out[j] {
                    throw OpError.invalid(op: op, problem: "shapes \(shapes.map { $0 }) do not broadcast")
                }
            }
        }
        return out
    }

    /// For each element of `outShape` (C order), the index of the element of a tensor of `shape`
    /// broadcast to it.
    public static func broadcastIndices(from shape: [Int], to outShape: [Int]) -> [Int] {
        let rank = outShape.count
        let offset = rank - shape.count
        var strides = Array(repeating: 0, count: rank)
        let own = Shapes.strides(shape)
        for i in shape.indices where shape[i] != 1 { strides[i + offset] = own[i] }
        return indexMap(outShape) { strides }
    }

    /// The source indices of every element of `outShape` in C order, where moving one step along
    /// output axis `a` moves `strides()[a]` elements in the source.
    public static func indexMap(_ outShape: [Int], strides: () -> [Int]) -> [Int] {
        let n = outShape.reduce(1, *)
        guard n > 0 else { return [] }
        let s = strides()
        let rank = outShape.count
        if rank == 0 { return [0] }
        var out = [Int](repeating: 0, count: n)
        var counter = Array(repeating: 0, count: rank)
        var index = 0
        let inner = outShape[rank - 1]
        let innerStride = s[rank - 1]
        var k = 0
        while k < n {
            for j in 0..<inner { out[k + j] = index + j * innerStride }
            k += inner
            // Advance the outer counters.
            var axis = rank - 2
            while axis >= 0 {
                counter[axis] += 1
                index += s[axis]
                if counter[axis] < outShape[axis] { break }
                index -= s[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return out
    }
}
