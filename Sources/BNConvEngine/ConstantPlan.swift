import BNConvCore
import BNConvModel
import BNConvOps

/// A runner's plan for runs of one set of input shapes: the steps evaluated once
/// (``ConstantPlanner``) and skipped at each run, and the values they wrote that the run starts with.
///
/// Each constant's buffer carries one reference for as long as it is kept (by the plan, or by the
/// runner for the constants every plan shares), so the pool never hands it out and no kernel
/// overwrites it (a kernel computes in place only into a buffer nothing else holds); a run adds and
/// releases its own references as it does for computed values.
struct ConstantPlan {
    /// Per step: whether it is evaluated once (not run).
    let folded: [Bool]
    /// The evaluated values that steps still run read, or that are model outputs.
    let constants: [(name: String, value: EngineValue)]
    /// Per value, how many of the steps that run read it (a run's countdown start).
    let readerCounts: [String: Int]
    /// Values computed at run time whose shape an evaluated node read: the shape planned for each.
    /// A run checks each as it is written.
    let expectedShapes: [String: [Int]]
    /// Per step, a kernel that runs it instead of its own: op-library reshapes whose shapes
    /// planning knows run as views (``ReshapeViewKernel``); empty when there is none.
    let kernels: [EngineKernel?]
    /// What was evaluated once, and how many reshapes run as views.
    let folding: ConstantFolding

    /// Whether the plan changes nothing (runs go as without a plan).
    var isEmpty: Bool { folding.nodes == 0 && folding.reshapeViews == 0 }

    /// The plan that changes nothing.
    static var empty: ConstantPlan {
        ConstantPlan(folded: [], constants: [], readerCounts: [:], expectedShapes: [:], kernels: [], folding: .none)
    }

    /// The values `outcome` evaluated that a step it did not evaluate reads, or that are model
    /// `outputs`, as engine values the caller keeps (what any plan made from `outcome` may need).
    static func engineValues(_ outcome: ConstantPlanner.Outcome, steps: [ModelRunner.Step], outputs: Set<String>) -> [String: EngineValue] {
        var read = outputs
        for (i, step) in steps.enumerated() where outcome.results[i] == nil { read.formUnion(step.distinctInputs) }
        var values: [String: EngineValue] = [:]
        for (i, results) in outcome.results {
            for (name, value) in zip(steps[i].node.outputs, results) where read.contains(name) { values[name] = engineValue(value) }
        }
        return values
    }

    /// The plan carrying out `outcome` over `steps` (of a model with outputs `outputs`); the values
    /// in `shared` (evaluated by a plan made with fewer shapes known, the same bits) are used as they are.
    static func make(_ outcome: ConstantPlanner.Outcome, steps: [ModelRunner.Step], outputs: Set<String>,
                     shared: [String: EngineValue] = [:]) -> ConstantPlan {
        var kernels: [EngineKernel?] = Array(repeating: nil, count: steps.count)
        var views = 0
        for (i, step) in steps.enumerated() where outcome.results[i] == nil {
            guard let view = Self.view(step, shapes: outcome.shapes) else { continue }
            kernels[i] = view
            views += 1
        }
        guard !outcome.results.isEmpty || views > 0 else { return .empty }
        var folded = Array(repeating: false, count: steps.count)
        for i in outcome.results.keys { folded[i] = true }
        var readers: [String: Int] = [:]
        for (i, step) in steps.enumerated() where !folded[i] {
            for v in step.distinctInputs { readers[v, default: 0] += 1 }
        }
        var constants: [(name: String, value: EngineValue)] = []
        for i in outcome.results.keys.sorted() {
            for (name, value) in zip(steps[i].node.outputs, outcome.results[i]!)
            where readers[name, default: 0] > 0 || outputs.contains(name) {
                constants.append((name, shared[name] ?? Self.engineValue(value)))
            }
        }
        var folding = ConstantFolding(steps.indices.filter { folded[$0] }.map { (steps[$0].node.name, steps[$0].node.opName) })
        folding.reshapeViews = views
        return ConstantPlan(folded: folded, constants: constants, readerCounts: readers,
                            expectedShapes: outcome.expectedShapes, kernels: views > 0 ? kernels : [], folding: folding)
    }

    /// The view kernel of `step` when it is an op-library reshape of one value whose input and
    /// output shapes planning knows (the same element count).
    private static func view(_ step: ModelRunner.Step, shapes: [String: [Int]]) -> ReshapeViewKernel? {
        let node = step.node
        guard case .tensor(let op) = node.op, ReshapeViewKernel.types.contains(op.type), node.outputs.count == 1,
              let kernel = step.kernel as? TensorOpKernel, case .value(let k)? = op.arguments.first, k >= 0, k < node.inputs.count,
              let input = shapes[node.inputs[k]], let output = shapes[node.outputs[0]],
              let count = ElementCount.of(input), ElementCount.of(output) == count else { return nil }
        return ReshapeViewKernel(kernel: kernel, operand: k, inputShape: input, outputShape: output)
    }

    /// `tensor` as an engine value whose buffer the plan keeps (one reference): float32 elements
    /// in a buffer of their own, other dtypes typed, as ``TensorOpKernel/engineValue(_:_:)`` makes them.
    private static func engineValue(_ tensor: HostTensor) -> EngineValue {
        if let floats = tensor.floats {
            let buffer = FloatBuffer(capacity: floats.count)
            floats.withUnsafeBufferPointer { if let base = $0.baseAddress { buffer.base.update(from: base, count: floats.count) } }
            buffer.references = 1
            return EngineValue(shape: tensor.shape, buffer: buffer)
        }
        let buffer = FloatBuffer(capacity: 0)
        buffer.references = 1
        return EngineValue(shape: tensor.shape, buffer: buffer, typed: tensor)
    }
}
