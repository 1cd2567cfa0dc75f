import BNConvModel

/// The op library: a kernel for every ONNX operator in bnconv's scope, with ONNX's operator
/// specification (onnx/onnx `docs/Operators.md`: each op's attributes, defaults and opset
/// versions; NumPy broadcasting) as the definition of what it computes.
///
/// Each family of ops lives in its own file and contributes its builders; the engine runs every
/// ``Op/tensor(_:)`` node through ``kernel(for:)``.
public enum OpLibrary {
    /// Every builder by ONNX op type.
    static let builders: [String: KernelBuilder] = {
        var all: [String: KernelBuilder] = [:]
        for family in [ElementwiseOps.builders, ActivationOps.builders, ShapeOps.builders, ReductionOps.builders,
                       NormalizationOps.builders, ResizeOps.builders, ConvolutionOps.builders, PoolingOps.builders,
                       MatrixOps.builders, TensorFlowOps.builders] {
            all.merge(family) { first, _ in first }
        }
        return all
    }()

    /// The kernel for `op`, or an error saying which op or attribute is not supported.
    public static func kernel(for op: TensorOp) throws -> any TensorKernel {
        guard let build = builders[op.type] else {
            throw OpError.unsupported(op: op.type, reason: "(no kernel in the op library)")
        }
        return try build(OpAttributes(op))
    }

    /// Whether the library has a kernel for the ONNX op `type`.
    public static func supports(_ type: String) -> Bool { builders[type] != nil }

    /// Every ONNX op type the library runs, sorted.
    public static var supportedOps: [String] { builders.keys.sorted() }
}
