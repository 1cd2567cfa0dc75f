/// Tensors made from attributes and shapes: `Constant`, `ConstantOfShape`, `Range`.
extension ShapeOps {
    /// `Constant`: the tensor of its one attribute: `value` (a tensor), `value_float(s)` (float32)
    /// or `value_int(s)` (int64); a scalar for the singular forms, 1-D for the plural ones.
    static let constant: KernelBuilder = { a in
        let given = a.values.keys.sorted()
        guard given.count == 1, let name = given.first else {
            throw a.invalid("it needs exactly one value attribute, not \(given)")
        }
        let value: HostTensor
        switch name {
        case "value":
            guard let t = try a.tensor("value") else { throw a.invalid("attribute 'value' is missing") }
            value = t
        case "value_float":
            value = HostTensor(shape: [], floats: [Float(try a.float("value_float", 0))])
        case "value_floats":
            let v = try a.floats("value_floats") ?? []
            value = HostTensor(shape: [v.count], floats: v.map { Float($0) })
        case "value_int":
            value = int64Tensor([try a.int("value_int", 0)], scalar: true)
        case "value_ints":
            value = int64Tensor(try a.ints("value_ints") ?? [])
        default:
            throw a.unsupported("with attribute '\(name)'")
        }
        return ClosureKernel { _ in [value] }
    }

    /// `ConstantOfShape`: a tensor of the shape in input 0 holding the one element of the `value`
    /// attribute (default a float32 0) everywhere, of that element's dtype.
    static let constantOfShape: KernelBuilder = { a in
        let value = try a.tensor("value") ?? HostTensor(shape: [1], floats: [0])
        guard value.count == 1 else { throw a.invalid("attribute 'value' holds \(value.count) elements, not 1") }
        return kernel(a) { inputs in
            guard let shape = try integerList(inputs, 0, "input") else {
                throw OpError.invalid(op: inputs.op, problem: "input 0 (shape) is missing")
            }
            let count = try Shapes.count(shape, op: inputs.op)
            return [value.picking(Array(repeating: 0, count: count), shape: shape)]
        }
    }

    /// `Range`: `start, start + delta, ...` up to (not including) `limit`: `max(ceil((limit -
    /// start) / delta), 0)` elements of the inputs' dtype (integers computed exactly).
    static let range: KernelBuilder = { a in
        kernel(a) { inputs in
            let start = try inputs.required(0), limit = try inputs.required(1), delta = try inputs.required(2)
            guard start.count == 1, limit.count == 1, delta.count == 1 else {
                throw OpError.invalid(op: inputs.op, problem: "start, limit and delta must be scalars, not shapes \(start.shape), \(limit.shape), \(delta.shape)")
            }
            guard start.dtype == limit.dtype, start.dtype == delta.dtype else {
                throw OpError.invalid(op: inputs.op, problem: "start, limit and delta of types \(start.dtype), \(limit.dtype), \(delta.dtype) (they must match)")
            }
            switch (start.storage, limit.storage, delta.storage) {
            case let (.int(s), .int(l), .int(d)):
                let (s, l, d) = (s[0], l[0], d[0])
                guard d != 0 else { throw OpError.invalid(op: inputs.op, problem: "delta is 0") }
                let (diff, overflow) = l.subtractingReportingOverflow(s)
                guard !overflow else { throw OpError.invalid(op: inputs.op, problem: "the range \(s) to \(l) holds too many elements") }
                let q = diff / d, r = diff % d
                let n = max(0, q + (r != 0 && (diff > 0) == (d > 0) ? 1 : 0))
                let count = try Shapes.count([Int(n)], op: inputs.op)
                return [HostTensor(dtype: start.dtype, shape: [count], storage: .int((0..<Int64(count)).map { s &+ $0 &* d }))]
            case (.bool, _, _):
                throw OpError.invalid(op: inputs.op, problem: "inputs of type bool are not numbers")
            default:
                let (s, l, d) = (start.storage.doubles[0], limit.storage.doubles[0], delta.storage.doubles[0])
                guard d != 0 else { throw OpError.invalid(op: inputs.op, problem: "delta is 0") }
                let n = ((l - s) / d).rounded(.up)
                guard n.isFinite || n < 0 else {
                    throw OpError.invalid(op: inputs.op, problem: "the range \(s) to \(l) by \(d) holds too many elements")
                }
                let count = try Shapes.count([n > 0 ? Int(min(n, 1e15)) : 0], op: inputs.op)
                let values = (0..<count).map { s + Double($0) * d }
                let storage: HostStorage = HostStorage.kind(of: start.dtype) == .double ? .double(values) : .float(values.map { Float($0) })
                return [HostTensor(dtype: start.dtype, shape: [count], storage: storage)]
            }
        }
    }
}
