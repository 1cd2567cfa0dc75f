/// A tensor of the float64 reference (``Float64Reference``): a shape and its values in C order.
struct Float64Tensor: Equatable {
    /// The dimensions, outermost first.
    var shape: [Int]
    /// The values, row-major.
    var values: [Double]

    /// The number of values.
    var count: Int { values.count }

    /// The values under another shape of the same count.
    func reshaped(_ newShape: [Int]) throws -> Float64Tensor {
        guard newShape.reduce(1, *) == values.count else {
            throw Float64Reference.Unsupported("cannot give \(shape) the shape \(newShape)")
        }
        return Float64Tensor(shape: newShape, values: values)
    }

    /// The tensor with its axes in the order `permutation` gives (numpy `transpose`).
    func permuted(_ permutation: [Int]) -> Float64Tensor {
        precondition(permutation.sorted() == Array(shape.indices), "not a permutation of \(shape.count) axes")
        if permutation == Array(shape.indices) { return self }
        var out = [Double](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                Self.forEachRow(of: shape, permuted: permutation) { to, from, count, stride in
                    for j in 0..<count { destination[to + j] = source[from + j * stride] }
                }
            }
        }
        return Float64Tensor(shape: permutation.map { shape[$0] }, values: out)
    }

    /// Walks a C-order tensor of `shape` in the order of its axes permuted by `permutation`
    /// (numpy `transpose`), one row of the result at a time: `body(to, from, count, stride)` says
    /// that the result's `count` elements from flat index `to` on are the source's elements at
    /// `from`, `from + stride`, ... (one call per row, so the caller's inner loop runs without an
    /// odometer: transposing a 512x512x3x3 kernel takes milliseconds, not tens of them).
    static func forEachRow(of shape: [Int], permuted permutation: [Int], _ body: (_ to: Int, _ from: Int, _ count: Int, _ stride: Int) -> Void) {
        let total = shape.reduce(1, *)
        guard total > 0 else { return }
        guard let innerAxis = permutation.last else { return body(0, 0, 1, 1) }
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in Swift.stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let outer = permutation.dropLast().map { shape[$0] }, outerStrides = permutation.dropLast().map { strides[$0] }
        let count = shape[innerAxis], stride = strides[innerAxis]
        var index = [Int](repeating: 0, count: outer.count)
        var from = 0
        for to in Swift.stride(from: 0, to: total, by: count) {
            body(to, from, count, stride)
            // Odometer over the result's outer axes, moving the source offset along.
            var axis = outer.count - 1
            while axis >= 0 {
                index[axis] += 1
                from += outerStrides[axis]
                if index[axis] < outer[axis] { break }
                from -= outerStrides[axis] * outer[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
