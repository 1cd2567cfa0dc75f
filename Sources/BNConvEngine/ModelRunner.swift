import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Runs a format-neutral ``Model`` on the CPU in float32: the engine bnconv verifies with.
///
/// Weights are converted to float32 once at init; shapes are worked out from the inputs at each
/// run. The first run of new input shapes plans them (``RunOptions/foldsConstants``): op-library
/// nodes whose result depends on no input value are evaluated then, once, and later runs of those
/// shapes start with their results (the last few input shapes' plans are kept). Intermediate
/// buffers come from a pool and are returned once their last reader has run, so repeated runs
/// allocate nothing. One runner runs one model at a time (`run` is serialized).
///
/// Runners on different threads run at the same time without sharing state: each spreads its
/// kernels over its own ``RunOptions/threads``. OpenBLAS's thread count is the one setting they
/// share (OpenBLAS keeps one per process): a run holds it steady while its kernels run, so a
/// run asking for other ``RunOptions/blasThreads`` than a run in progress waits for that run (or
/// for its next call to `observe`) before it starts.
public final class ModelRunner {
    /// The model being run.
    public let model: Model
    /// The options it runs with.
    public let options: RunOptions

    struct Step {
        let node: Node
        let kernel: EngineKernel
        /// The node's inputs, each once (planned here, not per run).
        let distinctInputs: [String]

        init(node: Node, kernel: EngineKernel) {
            self.node = node
            self.kernel = kernel
            distinctInputs = node.distinctInputs
        }
    }

    /// Per value, how many steps read it (the start of each run's countdown).
    var readerCounts: [String: Int] = [:]
    /// The model's outputs, never released during a run.
    var outputNames: Set<String> = []

    /// Per-node wall times of the last run, in milliseconds, with each node's output shape, when
    /// ``RunOptions/recordsNodeTimes`` is set (a fused chain is timed as its first node).
    public internal(set) var lastNodeTimes: [(node: String, op: String, milliseconds: Double, shape: [Int])] = []
    /// The nodes the last run did not run because planning its input shapes evaluated them once
    /// (``RunOptions/foldsConstants``; none for a run that observes every value).
    public internal(set) var lastRunFolding = ConstantFolding.none
    /// How many kernels the last run ran (a fused chain counts once).
    public internal(set) var lastRunKernels = 0

    /// What planning evaluated with no input shape known (nodes on constants only), the start of
    /// every input shapes' plan; made for the first run that uses a plan.
    private var basePlan: ConstantPlanner.Outcome?
    /// The values of ``basePlan`` as engine values, shared by every plan.
    private var baseConstants: [String: EngineValue] = [:]
    /// Whether runs plan constants: folding is on and the model has op-library nodes.
    private var plansConstants = false
    /// Plans by input shapes, the most recently used last (at most ``cachedPlans``).
    private var plans: [(shapes: [[Int]], plan: ConstantPlan)] = []
    /// How many input shapes' plans a runner keeps.
    static let cachedPlans = 8

    var steps: [Step] = []
    let pool = BufferPool()
    let lock = NSLock()
    /// The cores the kernels spread their work over.
    let parallel: Parallel
    /// Linear ops run with their following BatchNorm/activation in one epilogue (when not observed).
    var fusion: FusionPlan!
    /// Zero paddings folded into the convolution or max pooling that reads them (when not observed).
    var padFolding: PadFolding!

    /// The kernel set OpenBLAS multiplies with (`Haswell`, `SkylakeX`, ...; `OPENBLAS_CORETYPE`
    /// chooses it when set, else bnconv picks the kernels for the CPU), loading OpenBLAS if needed;
    /// `nil` when it cannot be loaded.
    public static var blasKernels: String? { BLAS.coreName }

    /// Prepares every node some model output depends on (the others never run); throws naming the
    /// first such node the engine cannot run and its op. Weights still deferred in their file are
    /// loaded first.
    public init(model: Model, options: RunOptions = .init()) throws {
        let model = try options.streamsWeights
            ? model.withLoadedWeights(except: KernelWeights.staysInFile) : model.withLoadedWeights()
        self.model = model
        self.options = options
        let parallel = Parallel(threads: options.threads)
        self.parallel = parallel
        try model.validate()
        do { try BLAS.load() } catch { throw EngineError.blasUnavailable("\(error)") }
        let inputs = Set(model.inputs)
        // A node no output depends on (the untaken branch of a constant tf.cond) is neither prepared nor run.
        let needed = model.nodesTheOutputsNeed()
        // What the run reads: an IdentityN passes on only those of its operands (``IdentityNKernel``).
        var read = Set(model.outputs)
        for (index, node) in model.nodes.enumerated() where needed[index] { read.formUnion(node.inputs) }
        for (index, original) in model.nodes.enumerated() {
            let node = IdentityNKernel.narrowed(original, isRead: read.contains) ?? original
            if node.op == .input {
                guard node.outputs.allSatisfy(inputs.contains) else {
                    throw EngineError.unsupportedOp(node: node.name, op: node.opName,
                                                    reason: "its output is not one of the model's inputs \(model.inputs)")
                }
                continue
            }
            guard needed[index] else { continue }
            let writesSeveral: Bool
            if case .tensor = node.op { writesSeveral = true } else { writesSeveral = false }
            guard node.outputs.count == 1 || (writesSeveral && !node.outputs.isEmpty) else {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName,
                                                reason: "\(node.outputs.count) outputs (only op-library ops write several)")
            }
            do {
                steps.append(Step(node: node, kernel: try KernelFactory.make(node, batchNormStatistics: options.batchNormStatistics,
                                                                  winograd: options.winograd, streamsWeights: options.streamsWeights,
                                                                  parallel: parallel)))
            } catch EngineError.notSupported(_, let op, let name) {
                // Named as the file names it: "ONNX op 'Unique' is not supported (node 'x')".
                let kind: String
                switch model.format {
                case .onnx: kind = "ONNX op"
                case .graphDef: kind = "TensorFlow op"
                default:
                    // A layer named with what it runs ("TFOpLambda 'math.cumsum'") says it itself.
                    kind = op.contains("'") ? "" : "Keras layer"
                }
                throw EngineError.notSupported(kind: kind, op: op, node: name)
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "\(error)")
            }
        }
        let statistics = options.batchNormStatistics
        let streams = options.streamsWeights
        let stepNodes = steps.map(\.node)
        padFolding = PadFolding(nodes: stepNodes, model: model) {
            try KernelFactory.make($0, batchNormStatistics: statistics, streamsWeights: streams, parallel: parallel)
        }
        // Chains are planned over the kernels an unobserved run uses (folded consumers included).
        let kernels = steps.indices.map { padFolding.folds[$0]?.kernel ?? steps[$0].kernel }
        fusion = FusionPlan(nodes: stepNodes, kernels: kernels, model: model)
        for step in steps { for v in step.distinctInputs { readerCounts[v, default: 0] += 1 } }
        outputNames = Set(model.outputs)
        plansConstants = options.foldsConstants && steps.contains { $0.kernel is TensorOpKernel }
    }

    /// The plan for runs of inputs shaped `shapes` (made the first time, then kept), or nil when
    /// nothing is evaluated once. Called with the runner's lock held.
    func constantPlan(for shapes: [[Int]]) -> ConstantPlan? {
        guard plansConstants else { return nil }
        if let i = plans.firstIndex(where: { $0.shapes == shapes }) {
            let entry = plans.remove(at: i)
            plans.append(entry)
            return entry.plan.isEmpty ? nil : entry.plan
        }
        let base: ConstantPlanner.Outcome
        if let basePlan {
            base = basePlan
        } else {
            base = ConstantPlanner.plan(steps: steps, model: model, inputShapes: nil)
            basePlan = base
            baseConstants = ConstantPlan.engineValues(base, steps: steps, outputs: outputNames)
        }
        let outcome = ConstantPlanner.plan(steps: steps, model: model, inputShapes: shapes, base: base)
        let plan = ConstantPlan.make(outcome, steps: steps, outputs: outputNames, shared: baseConstants)
        keep(plan, for: shapes)
        return plan.isEmpty ? nil : plan
    }

    /// Runs of inputs shaped `shapes` no longer use their plan (a value's shape differed from the
    /// planned one). Called with the runner's lock held.
    func dropConstantPlan(for shapes: [[Int]]) { keep(.empty, for: shapes) }

    /// Keeps `plan` for `shapes` as the most recently used, dropping the least recently used
    /// beyond ``cachedPlans``.
    private func keep(_ plan: ConstantPlan, for shapes: [[Int]]) {
        plans.removeAll { $0.shapes == shapes }
        if plans.count >= Self.cachedPlans { plans.removeFirst() }
        plans.append((shapes, plan))
    }

    /// Runs the model on `inputs` (in ``Model/inputs`` order; converted to float32) and returns its
    /// outputs in ``Model/outputs`` order as float32 tensors. `observe` sees every value a node writes;
    /// `batchNormMoments` sees the input moments of every BatchNorm that normalizes with batch
    /// statistics (``RunOptions/batchNormStatistics``), in node order. Both are called between
    /// steps, never while the engine's kernels run.
    public func run(_ inputs: [Tensor], observe: ((_ value: String, _ tensor: Tensor) -> Void)? = nil,
                    batchNormMoments: ((BatchNormObservation) -> Void)? = nil) throws -> [Tensor] {
        let run = try RunInProgress(self, inputs: inputs, observed: observe != nil, observesMoments: batchNormMoments != nil)
        do {
            while try run.step(observe: observe, batchNormMoments: batchNormMoments) {}
            return try run.outputs()
        } catch where run.plannedShapeDiffered && batchNormMoments == nil {
            // The plan is dropped for these shapes (an engine bug, reported by the error otherwise):
            // nothing was handed to a caller yet, so the run starts again without it.
            run.end()
            let again = try RunInProgress(self, inputs: inputs, observed: false, observesMoments: false)
            while try again.step() {}
            return try again.outputs()
        }
    }

    /// Starts a run of `inputs` that the caller advances one node at a time
    /// (``RunInProgress/step(observe:batchNormMoments:)``), as ``run(_:observe:batchNormMoments:)`` does
    /// in one go; `observed` runs every node on its own (no fused chains), so that each value can be seen.
    /// Other runs of this runner wait until it is finished or dropped.
    package func start(_ inputs: [Tensor], observed: Bool) throws -> RunInProgress {
        try RunInProgress(self, inputs: inputs, observed: observed, observesMoments: false)
    }

    /// Waits until this run's OpenBLAS thread count (``RunOptions/blasThreads``, 1 by default) is
    /// set and held steady.
    func blasLease() throws -> BLASThreadLease {
        do { return try BLASThreadLease(threads: options.blasThreads ?? 1) } catch {
            throw EngineError.blasUnavailable("\(error)")
        }
    }
}
