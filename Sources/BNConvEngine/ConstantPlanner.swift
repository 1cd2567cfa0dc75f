import BNConvCore
import BNConvModel
import BNConvOps

/// Works out, for one set of input shapes, which op-library nodes give the same result at every
/// run, and evaluates them once.
///
/// Shapes flow from the inputs through the model (``ShapeInference/exactOutputShapes(of:inputs:values:)``,
/// with the elements of the values evaluated so far: a Reshape whose target was evaluated has a
/// known output shape). A node is evaluated when
/// - it is a ``ShapeQuery`` (`Shape`, `Size`, `Rank`) of a value whose shape is known: the answer
///   comes from the shape (the value itself still runs if anything reads it), or
/// - every operand is a constant (a weight or a value evaluated before) and its result is known
///   to stay small: its outputs' shapes are inferred and each holds at most ``maximumElements``
///   elements, or its op never makes more elements than it reads (a slice, a reshape, a
///   reduction) and its operands are that small. A node whose result would be large (a
///   `ConstantOfShape`, `Expand`, `Tile` or `Range` of a big shape) is never evaluated here and
///   stays a kernel; so does a node the op library refuses (its run gives the error, as before).
///
/// The op library computes the evaluated results with the same kernels and operands as a run, so
/// they are the same bits. A plan evaluates at most ``maximumPlanElements`` elements in all.
enum ConstantPlanner {
    /// The most elements one evaluated value may hold (64 Ki).
    static let maximumElements = 65_536
    /// The most elements one plan evaluates in all (4 Mi).
    static let maximumPlanElements = 1 << 22

    /// Ops whose every output holds at most as many elements as their operands together.
    static let sizeBounded: Set<String> = ShapeQuery.types.union(TensorOpShapes.sameShape).union([
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Split", "Concat", "GatherElements",
        "TF.StridedSlice", "TF.Slice", "TF.Pack", "TF.IdentityN", "TF.All", "TF.Any", "ArgMax", "ArgMin",
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceLogSumExp", "ReduceSumSquare", "ReduceLogSum",
    ])

    /// What planning found.
    struct Outcome {
        /// The outputs of each evaluated step, by step index.
        var results: [Int: [HostTensor]] = [:]
        /// Steps whose operands were all constants but which were not evaluated (too large, or
        /// refused by the op library): planning with more shapes known does not try them again.
        var refused: Set<Int> = []
        /// The shape of every value planning knows (inputs, inferred and evaluated values).
        var shapes: [String: [Int]] = [:]
        /// Values computed at run time whose planned shape an evaluated node read.
        var expectedShapes: [String: [Int]] = [:]
    }

    /// Plans `steps` of `model` for inputs of `inputShapes` (in ``Model/inputs`` order; nil when
    /// not known: then only nodes on constants are evaluated), reusing what `base` (a plan made
    /// with fewer shapes known) evaluated or refused.
    static func plan(steps: [ModelRunner.Step], model: Model, inputShapes: [[Int]]?, base: Outcome? = nil) -> Outcome {
        var outcome = Outcome()
        var values: [String: HostTensor] = [:]
        var tensors: [String: Tensor] = [:]
        var budget = maximumPlanElements
        if let inputShapes {
            for (name, shape) in zip(model.inputs, inputShapes) { outcome.shapes[name] = shape }
        }
        let inputs = Set(model.inputs)
        func tensor(_ name: String) -> Tensor? {
            if let t = tensors[name] { return t }
            guard let host = values[name] else { return nil }
            let t = host.tensor()
            tensors[name] = t
            return t
        }
        for (i, step) in steps.enumerated() {
            let node = step.node
            let shapes = node.inputs.map { outcome.shapes[$0] }
            var results: [HostTensor]?
            if case .tensor(let op) = node.op, let kernel = step.kernel as? TensorOpKernel {
                if let seeded = base?.results[i] {
                    results = seeded
                } else if base?.refused.contains(i) == true {
                    results = nil
                } else if ShapeQuery.types.contains(op.type), case .value(let k)? = op.arguments.first,
                          k >= 0, k < node.inputs.count, let shape = shapes[k], let answer = ShapeQuery.result(op, shape: shape) {
                    results = [answer]
                    let queried = node.inputs[k]
                    if values[queried] == nil && !inputs.contains(queried) { outcome.expectedShapes[queried] = shape }
                } else if node.inputs.allSatisfy({ values[$0] != nil }) {
                    results = evaluate(node, op, kernel, values: values, shapes: shapes, budget: budget) { tensor($0) }
                    if results == nil { outcome.refused.insert(i) }
                }
            }
            if let results, results.count >= node.outputs.count {
                outcome.results[i] = results
                budget -= results.reduce(0) { $0 + $1.count }
                for (name, value) in zip(node.outputs, results) {
                    values[name] = value
                    outcome.shapes[name] = value.shape
                }
            } else if let out = ShapeInference.exactOutputShapes(of: node, inputs: shapes, values: node.inputs.map { tensor($0) }) {
                for (name, shape) in zip(node.outputs, out) { outcome.shapes[name] = shape }
            }
        }
        return outcome
    }

    /// The outputs of `node` (running `op` through `kernel`) on its constant inputs `values`,
    /// or nil when they might be large (beyond ``maximumElements`` each, or `budget` together) or
    /// the op library refuses them.
    private static func evaluate(_ node: Node, _ op: TensorOp, _ kernel: TensorOpKernel, values: [String: HostTensor],
                                 shapes: [[Int]?], budget: Int, tensor: (String) -> Tensor?) -> [HostTensor]? {
        if let predicted = ShapeInference.exactOutputShapes(of: node, inputs: shapes, values: node.inputs.map(tensor)) {
            var total = 0
            for shape in predicted {
                guard let count = ElementCount.of(shape, atMost: maximumElements) else { return nil }
                total += count
            }
            guard total <= budget else { return nil }
        } else {
            guard sizeBounded.contains(op.type) else { return nil }
            var total = 0
            for name in node.inputs { total += values[name]!.count }
            for weight in node.weights { total += weight.tensor.count }
            guard total <= min(maximumElements, budget) else { return nil }
        }
        guard let results = try? kernel.evaluate({ values[node.inputs[$0]]! }),
              results.allSatisfy({ $0.count <= maximumElements }),
              results.reduce(0, { $0 + $1.count }) <= budget else { return nil }
        return results
    }
}
