/// `Slice`: a strided window along some axes.
extension ShapeOps {
    /// `Slice`: along each of `axes` (default all), elements `starts` up to `ends` by `steps`
    /// (default 1; negative steps walk backwards), negative positions counting from the end and
    /// clamped to the dimension. Attributes `starts ends axes` before opset 10, inputs 1 to 4 from 10.
    static let slice: KernelBuilder = { a in
        let fromInputs = a.opset >= 10
        let attributes = fromInputs ? nil : (starts: try a.ints("starts"), ends: try a.ints("ends"), axes: try a.ints("axes"))
        if let attributes, attributes.starts == nil || attributes.ends == nil {
            throw a.invalid("attributes 'starts' and 'ends' are required")
        }
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
            if let attributes {
                starts = attributes.starts!
                ends = attributes.ends!
                axes = attributes.axes
                steps = nil
            } else {
                guard let s = try integerList(inputs, 1, "starts"), let e = try integerList(inputs, 2, "ends") else {
                    throw OpError.invalid(op: inputs.op, problem: "inputs 'starts' and 'ends' are required")
                }
                starts = s
                ends = e
                axes = try integerList(inputs, 3, "axes")
                steps = try integerList(inputs, 4, "steps")
            }
            let window = try sliceWindow(x.shape, starts: starts, ends: ends, axes: axes, steps: steps, op: inputs.op)
            let indices = Shapes.axisWiseIndexMap(window.shape, sourceShape: x.shape, coordinates: window.coordinates)
            return [x.picking(indices, shape: window.shape)]
        }
    }

    /// The output shape of a slice of a tensor of `shape`, and per axis the source coordinate of
    /// each output coordinate (ONNX Slice's clamping rules).
    static func sliceWindow(_ shape: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?,
                            op: String) throws -> (shape: [Int], coordinates: [[Int]]) {
        let axes = axes ?? Array(0..<starts.count)
        let steps = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw OpError.invalid(op: op, problem: "starts \(starts), ends \(ends), axes \(axes) and steps \(steps) differ in length")
        }
        let resolved = try distinctAxes(axes, rank: shape.count, op: op)
        var outShape = shape
        var coordinates = shape.map { Array(0..<$0) }
        for (k, axis) in resolved.enumerated() {
            let d = shape[axis], step = steps[k]
            guard step != 0 else { throw OpError.invalid(op: op, problem: "step 0 along axis \(axis)") }
            func position(_ v: Int) -> Int { v < 0 ? v + d : v }
            var start = position(starts[k]), end = position(ends[k])
            let count: Int
            if step > 0 {
                start = min(max(start, 0), d)
                end = min(max(end, 0), d)
                count = end > start ? (end - start - 1) / step + 1 : 0
            } else {
                start = min(max(start, 0), d - 1)
                end = min(max(end, -1), d - 1)
                count = start > end ? (start - end - 1) / (-step) + 1 : 0
            }
            outShape[axis] = count
            coordinates[axis] = (0..<count).map { start + $0 * step }
        }
        return (outShape, coordinates)
    }
}
