/// Repetition: `Expand` (broadcast to a shape), `Tile` (whole copies along each axis).
extension ShapeOps {
    /// `Expand`: the input broadcast with the shape of input 1 (NumPy rules both ways: a 1 in
    /// the shape keeps the input's dimension).
    static let expand: KernelBuilder = { a in
        kernel(a) { inputs in
            let x = try inputs.required(0)
            guard let target = try integerList(inputs, 1, "shape") else {
                throw OpError.invalid(op: inputs.op, problem: "input 1 (shape) is missing")
            }
            guard target.allSatisfy({ $0 >= 0 }) else {
                throw OpError.invalid(op: inputs.op, problem: "shape \(target) has a negative dimension")
            }
            let shape = try Shapes.broadcast([x.shape, target], op: inputs.op)
            _ = try Shapes.count(shape, op: inputs.op)
            if shape == x.shape { return [x] }
            return [x.picking(Shapes.broadcastIndices(from: x.shape, to: shape), shape: shape)]
        }
    }

    /// `Tile`: the input repeated `repeats[i]` times along axis `i` (input 1, opset 6).
    static let tile: KernelBuilder = { a in
        if a.opset < 6 { throw a.unsupported("of opset \(a.opset) (tiles and axis inputs)") }
        return kernel(a) { inputs in
            let x = try inputs.required(0)
            guard let repeats = try integerList(inputs, 1, "repeats") else {
                throw OpError.invalid(op: inputs.op, problem: "input 1 (repeats) is missing")
            }
            guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
                throw OpError.invalid(op: inputs.op, problem: "repeats \(repeats) for an input of shape \(x.shape) (one non-negative count per axis)")
            }
            var shape = x.shape
            for i in shape.indices {
                let (n, overflow) = shape[i].multipliedReportingOverflow(by: repeats[i])
                guard !overflow else { throw OpError.invalid(op: inputs.op, problem: "repeats \(repeats) make too many elements") }
                shape[i] = n
            }
            _ = try Shapes.count(shape, op: inputs.op)
            let coordinates = x.shape.indices.map { axis in (0..<shape[axis]).map { $0 % x.shape[axis] } }
            return [x.picking(Shapes.axisWiseIndexMap(shape, sourceShape: x.shape, coordinates: coordinates), shape: shape)]
        }
    }
}
