import BNConvCore
import BNConvModel

/// An op-library reshape (`Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Identity`) whose input and
/// output shapes planning knows (``ConstantPlan``): on a float32 input of the planned shape it gives a
/// view of the input with the planned output shape (the elements shared, as ``ReshapeKernel`` does)
/// instead of the op library's two copies; on anything else it runs the op library's kernel.
///
/// The op library's reshapes keep the elements in order and take the output shape from the input's
/// shape and their constant operands only, so on the planned input shape the view holds the same
/// values in the same shape.
struct ReshapeViewKernel: MultiOutputKernel {
    /// The op types run as views.
    static let types: Set<String> = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"]

    /// The node's own kernel.
    let kernel: TensorOpKernel
    /// The node input the op reshapes.
    let operand: Int
    /// The input shape planned.
    let inputShape: [Int]
    /// The output shape planned for it.
    let outputShape: [Int]

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[operand]
        guard x.typed == nil, x.shape == inputShape else { return try kernel.run(inputs, context) }
        return context.alias(x, shape: outputShape)
    }

    func runAll(_ inputs: [EngineValue], _ context: KernelContext) throws -> [EngineValue] {
        [try run(inputs, context)]
    }
}
