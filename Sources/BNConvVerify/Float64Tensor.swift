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
        let newShape = permutation.map { shape[$0] }
        // The source stride of each destination axis.
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let from = permutation.map { strides[$0] }
        var out = [Double](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: shape.count)
        var source = 0
        for k in 0..<out.count {
            out[k] = values[source]
            // Odometer over the destination index, moving the source offset along.
            var axis = newShape.count - 1
            while axis >= 0 {
                index[axis] += 1
                source += from[axis]
                if index[axis] < newShape[axis] { break }
                source -= from[axis] * newShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return Float64Tensor(shape: newShape, values: out)
    }
}
