import BNConvCore
import BNConvModel
import BNConvOps

/// A kernel that writes several values (an op-library op with more than one output).
protocol MultiOutputKernel: EngineKernel {
    /// The node's outputs, in its ``Node/outputs`` order.
    func runAll(_ inputs: [EngineValue], _ context: KernelContext) throws -> [EngineValue]
}

/// Runs an ``Op/tensor(_:)`` node through the op library (``OpLibrary``): float32 values are
/// copied in and out of the pool's buffers, other dtypes travel as ``EngineValue/typed``.
/// Constant operands (the node's weights) are converted once, here.
struct TensorOpKernel: MultiOutputKernel {
    let op: TensorOp
    let kernel: any TensorKernel
    /// Per ONNX input position: a node input index, a constant, or nothing.
    let arguments: [Argument]
    /// How many of the op's outputs the node keeps (the first ones).
    let outputCount: Int

    enum Argument {
        case value(Int)
        case constant(HostTensor)
        case absent
    }

    init(node: Node, op: TensorOp) throws {
        self.op = op
        kernel = try OpLibrary.kernel(for: op)
        arguments = try Self.arguments(of: op, node: node)
        outputCount = node.outputs.count
    }

    /// `op`'s arguments for `node`: input positions checked, constant operands (the node's
    /// weights) converted once.
    static func arguments(of op: TensorOp, node: Node) throws -> [Argument] {
        try op.arguments.map { argument in
            switch argument {
            case .value(let i):
                guard i >= 0 && i < node.inputs.count else {
                    throw EngineError.unsupportedOp(node: node.name, op: op.type, reason: "argument \(i) names no input of the node")
                }
                return .value(i)
            case .weight(let role):
                guard let w = node.weight(role) else { throw EngineError.missingWeight(node: node.name, role: role) }
                return .constant(try HostTensor(w.tensor))
            case .absent:
                return .absent
            }
        }
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let all = try runAll(inputs, context)
        for extra in all.dropFirst() { context.release(extra) }
        return all[0]
    }

    func runAll(_ inputs: [EngineValue], _ context: KernelContext) throws -> [EngineValue] {
        try evaluate { Self.host(inputs[$0]) }.map { try Self.engineValue($0, context) }
    }

    /// The node's outputs (as many as it keeps), its input `i` being `input(i)`: what
    /// ``runAll(_:_:)`` computes, on the op library's tensors (planning evaluates constants so).
    func evaluate(_ input: (Int) throws -> HostTensor) throws -> [HostTensor] {
        let values: [HostTensor?] = try arguments.map { argument in
            switch argument {
            case .value(let i): return try input(i)
            case .constant(let t): return t
            case .absent: return nil
            }
        }
        let results = try kernel.run(values)
        guard results.count >= outputCount else {
            throw EngineError.unsupportedOp(node: "", op: op.type, reason: "it wrote \(results.count) outputs, the node has \(outputCount)")
        }
        return Array(results.prefix(outputCount))
    }

    /// The op library's view of an engine value.
    static func host(_ value: EngineValue) -> HostTensor {
        if let typed = value.typed { return typed }
        return HostTensor(shape: value.shape, floats: Array(UnsafeBufferPointer(start: value.pointer, count: value.count)))
    }

    /// An engine value holding `tensor`: float32 in a pool buffer, anything else typed.
    static func engineValue(_ tensor: HostTensor, _ context: KernelContext) throws -> EngineValue {
        if let floats = tensor.floats {
            let value = try context.allocate(tensor.shape)
            floats.withUnsafeBufferPointer { if let base = $0.baseAddress { value.pointer.update(from: base, count: floats.count) } }
            return value
        }
        return EngineValue(shape: tensor.shape, buffer: context.pool.take(0), typed: tensor)
    }
}
