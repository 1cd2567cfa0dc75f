import BNConvCore
import BNConvModel
import BNConvOps

/// TensorFlow's `IdentityN` (`TF.IdentityN`): each output is its operand, the input's buffer shared
/// instead of copied in and out of the op library (``TensorOpKernel``). tf.keras writes one after
/// every swish (`IdentityN(x * sigmoid(x), x, beta)`, its custom gradient's wrapper): an
/// EfficientNet-B0 copied 49 of them, 5 ms of a 31-42 ms run.
///
/// A constant operand (a weight of the node) is made once per run.
struct IdentityNKernel: MultiOutputKernel {
    /// Per output, the operand it passes on.
    let operands: [TensorOpKernel.Argument]

    /// The kernel of `node`, an `IdentityN` whose arguments are `op`'s.
    init(node: Node, op: TensorOp) throws {
        operands = try TensorOpKernel.arguments(of: op, node: node)
        if operands.contains(where: { if case .absent = $0 { true } else { false } }) {
            throw EngineError.unsupportedOp(node: node.name, op: op.type, reason: "an absent operand")
        }
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        try runAll(inputs, context)[0]
    }

    func runAll(_ inputs: [EngineValue], _ context: KernelContext) throws -> [EngineValue] {
        try operands.map { operand in
            switch operand {
            case .value(let i):
                var shared = context.alias(inputs[i], shape: inputs[i].shape)
                shared.typed = inputs[i].typed
                return shared
            case .constant(let tensor):
                return try TensorOpKernel.engineValue(tensor, context)
            case .absent:
                throw EngineError.shapeMismatch("IdentityN operand", expected: [], got: [])
            }
        }
    }

    /// `node` (an `IdentityN`) passing on only the operands whose outputs `isRead` says someone
    /// reads: the others are neither kept alive nor counted as read, so the values they pass on
    /// (swish's input) can be fused away by their producer. `nil` when every output is read or
    /// the node is not an `IdentityN`.
    static func narrowed(_ node: Node, isRead: (String) -> Bool) -> Node? {
        guard case .tensor(var op) = node.op, op.type == "TF.IdentityN", op.arguments.count == node.outputs.count else { return nil }
        let kept = node.outputs.indices.filter { isRead(node.outputs[$0]) }
        guard !kept.isEmpty, kept.count < node.outputs.count else { return nil }
        var inputs: [String] = []
        var arguments: [TensorOpArgument] = []
        for k in kept {
            switch op.arguments[k] {
            case .value(let i):
                guard i >= 0 && i < node.inputs.count else { return nil }
                arguments.append(.value(inputs.count))
                inputs.append(node.inputs[i])
            case let other:
                arguments.append(other)
            }
        }
        op.arguments = arguments
        var narrowed = node
        narrowed.op = .tensor(op)
        narrowed.inputs = inputs
        narrowed.outputs = kept.map { node.outputs[$0] }
        return narrowed
    }
}
