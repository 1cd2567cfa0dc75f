/// Element-wise arithmetic with NumPy broadcasting: `Add Sub Mul Div` (and the rest of the
/// element-wise family, see ``OpLibrary``).
enum ElementwiseOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "Add": arithmetic("Add", { $0 + $1 }, { $0 + $1 }, { $0 &+ $1 }),
        "Sub": arithmetic("Sub", { $0 - $1 }, { $0 - $1 }, { $0 &- $1 }),
        "Mul": arithmetic("Mul", { $0 * $1 }, { $0 * $1 }, { $0 &* $1 }),
        "Div": arithmetic("Div", { $0 / $1 }, { $0 / $1 }, { $1 == 0 ? 0 : $0 / $1 }),
    ]

    /// A binary op computing floats with `f`, doubles with `d` and integers with `i`.
    static func arithmetic(_ name: String, _ f: @escaping @Sendable (Float, Float) -> Float,
                           _ d: @escaping @Sendable (Double, Double) -> Double,
                           _ i: @escaping @Sendable (Int64, Int64) -> Int64) -> KernelBuilder {
        { _ in
            ClosureKernel { values in
                let inputs = OpInputs(name, values)
                let a = try inputs.required(0), b = try inputs.required(1)
                return [try binary(name, a, b, f, d, i)]
            }
        }
    }

    /// `a op b` broadcast, in the operands' common dtype (which they must share).
    static func binary(_ name: String, _ a: HostTensor, _ b: HostTensor, _ f: (Float, Float) -> Float,
                       _ d: (Double, Double) -> Double, _ i: (Int64, Int64) -> Int64) throws -> HostTensor {
        guard a.dtype == b.dtype else {
            throw OpError.invalid(op: name, problem: "operands of types \(a.dtype) and \(b.dtype) (they must match)")
        }
        let shape = try Shapes.broadcast([a.shape, b.shape], op: name)
        switch (a.storage, b.storage) {
        case let (.float(x), .float(y)):
            return HostTensor(dtype: a.dtype, shape: shape, storage: .float(Broadcast.binary(x, a.shape, y, b.shape, outShape: shape, f)))
        case let (.double(x), .double(y)):
            return HostTensor(dtype: a.dtype, shape: shape, storage: .double(Broadcast.binary(x, a.shape, y, b.shape, outShape: shape, d)))
        case let (.int(x), .int(y)):
            return HostTensor(dtype: a.dtype, shape: shape, storage: .int(Broadcast.binary(x, a.shape, y, b.shape, outShape: shape, i)))
        default:
            throw OpError.invalid(op: name, problem: "operands of type \(a.dtype) are not numbers")
        }
    }
}
