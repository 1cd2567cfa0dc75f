import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Runs a format-neutral ``Model`` on the CPU in float32: the engine bnconv verifies with.
///
/// Weights are converted to float32 once at init; shapes are worked out from the inputs at each
/// run. Intermediate buffers come from a pool and are returned once their last reader has run, so
/// repeated runs allocate nothing. One runner runs one model at a time (`run` is serialized).
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

    private struct Step {
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
    private var readerCounts: [String: Int] = [:]
    /// The model's outputs, never released during a run.
    private var outputNames: Set<String> = []

    /// Per-node wall times of the last run, in milliseconds, when ``RunOptions/recordsNodeTimes`` is set.
    public private(set) var lastNodeTimes: [(node: String, op: String, milliseconds: Double)] = []

    private var steps: [Step] = []
    private let pool = BufferPool()
    private let lock = NSLock()
    /// The cores the kernels spread their work over.
    private let parallel: Parallel
    /// Linear ops run with their following BatchNorm/activation in one epilogue (when not observed).
    private var fusion: FusionPlan!
    /// Zero paddings folded into the convolution or max pooling that reads them (when not observed).
    private var padFolding: PadFolding!

    /// The kernel set OpenBLAS multiplies with (`Haswell`, `SkylakeX`, ...; `OPENBLAS_CORETYPE`
    /// chooses it when set, else bnconv picks the kernels for the CPU), loading OpenBLAS if needed;
    /// `nil` when it cannot be loaded.
    public static var blasKernels: String? { BLAS.coreName }

    /// Prepares every node; throws naming the first node the engine cannot run and its op. Weights
    /// still deferred in their file are loaded first.
    public init(model: Model, options: RunOptions = .init()) throws {
        let model = try model.withLoadedWeights()
        self.model = model
        self.options = options
        let parallel = Parallel(threads: options.threads)
        self.parallel = parallel
        try model.validate()
        do { try BLAS.load() } catch { throw EngineError.blasUnavailable("\(error)") }
        let inputs = Set(model.inputs)
        for node in model.nodes {
            if node.op == .input {
                guard node.outputs.allSatisfy(inputs.contains) else {
                    throw EngineError.unsupportedOp(node: node.name, op: node.opName,
                                                    reason: "its output is not one of the model's inputs \(model.inputs)")
                }
                continue
            }
            guard node.outputs.count == 1 else {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName,
                                                reason: "\(node.outputs.count) outputs (the engine runs single-output nodes)")
            }
            do {
                steps.append(Step(node: node, kernel: try KernelFactory.make(node, batchNormStatistics: options.batchNormStatistics,
                                                                  winograd: options.winograd, parallel: parallel)))
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "\(error)")
            }
        }
        let statistics = options.batchNormStatistics
        padFolding = PadFolding(nodes: steps.map(\.node), model: model) {
            try KernelFactory.make($0, batchNormStatistics: statistics, parallel: parallel)
        }
        // Chains are planned over the kernels an unobserved run uses (folded consumers included).
        let kernels = steps.indices.map { padFolding.folds[$0]?.kernel ?? steps[$0].kernel }
        fusion = FusionPlan(nodes: steps.map(\.node), kernels: kernels, model: model)
        for step in steps { for v in step.distinctInputs { readerCounts[v, default: 0] += 1 } }
        outputNames = Set(model.outputs)
    }

    /// Runs the model on `inputs` (in ``Model/inputs`` order; converted to float32) and returns its
    /// outputs in ``Model/outputs`` order as float32 tensors. `observe` sees every value a node writes;
    /// `batchNormMoments` sees the input moments of every BatchNorm that normalizes with batch
    /// statistics (``RunOptions/batchNormStatistics``), in node order. Both are called between
    /// steps, never while the engine's kernels run.
    public func run(_ inputs: [Tensor], observe: ((_ value: String, _ tensor: Tensor) -> Void)? = nil,
                    batchNormMoments: ((BatchNormObservation) -> Void)? = nil) throws -> [Tensor] {
        lock.lock()
        defer { lock.unlock() }
        guard inputs.count == model.inputs.count else {
            throw EngineError.inputCount(expected: model.inputs.count, got: inputs.count)
        }
        // Held while kernels run, returned around the caller's callbacks (which may run another
        // runner asking for another BLAS thread count).
        let lease = try blasLease()
        let context = KernelContext(pool: pool, parallel: parallel)
        if batchNormMoments != nil { context.batchNormObservations = [] }
        var live: [String: EngineValue] = [:]
        defer { for value in live.values { pool.release(value.buffer) } }
        for (name, tensor) in zip(model.inputs, inputs) {
            if let declared = model.values[name]?.shape {
                let fits = declared.count == tensor.rank
                    && zip(declared.dropFirst(), tensor.shape.dropFirst()).allSatisfy { $0 == nil || $0 == $1 }
                guard fits else { throw EngineError.inputShape(name: name, declared: declared, got: tensor.shape) }
            }
            let value = try context.allocate(tensor.shape)
            tensor.floats().withUnsafeBufferPointer { value.pointer.update(from: $0.baseAddress!, count: tensor.count) }
            if let old = live.updateValue(value, forKey: name) { pool.release(old.buffer) }
        }
        // Readers left per value: a node may overwrite an input it reads last, and a value's
        // buffer goes back to the pool once its last reader has run (fused steps run with their
        // chain's head, so the order of release follows what ran, not the node order).
        var readers = readerCounts
        let outputs = outputNames
        lastNodeTimes.removeAll(keepingCapacity: true)
        let fuses = observe == nil
        // Chains whose residual operand turned out another shape this run, or was not written yet
        // (its own chain ran step by step): their steps run one by one.
        var unfused: Set<Int> = []
        for (i, step) in steps.enumerated() {
            if fuses, let head = fusion.headOf[i], !unfused.contains(head) { continue }
            if fuses && padFolding.skipped.contains(i) { continue }
            let started = options.recordsNodeTimes ? DispatchTime.now().uptimeNanoseconds : 0
            let fold = fuses ? padFolding.folds[i] : nil
            let node = fold?.node ?? step.node
            let stepKernel = fold?.kernel ?? step.kernel
            let args = node.inputs.map { live[$0]! }
            var chain = fuses ? fusion.chains[i] : nil
            if let c = chain, !c.residualShapes.isEmpty,
               !c.residualsFit(batch: args.first?.shape.first ?? -1, { live[$0] }) {
                unfused.insert(i)
                chain = nil
            }
            context.reusable = zip(node.inputs, node.inputReadCounts).map { name, timesRead in
                readers[name] == 1 && !outputs.contains(name) && live[name]!.buffer.references == 1 && timesRead == 1
            }
            let result: EngineValue
            do {
                if let chain, let kernel = stepKernel as? FusableKernel {
                    result = try kernel.run(args, context, tail: chain.tail { live[$0]! })
                } else {
                    result = try stepKernel.run(args, context)
                }
            } catch {
                throw EngineError.nodeFailed(node: node.name, op: node.opName, problem: "\(error)")
            }
            if options.recordsNodeTimes {
                let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                lastNodeTimes.append((node.name, node.opName, ms))
            }
            if let old = live.updateValue(result, forKey: chain?.output ?? node.outputs[0]) { pool.release(old.buffer) }
            if observe != nil || context.batchNormObservations?.isEmpty == false {
                lease.whileReturned {
                    for observation in context.batchNormObservations ?? [] { batchNormMoments?(observation) }
                    if batchNormMoments != nil { context.batchNormObservations = [] }
                    observe?(node.outputs[0], result.tensor())
                }
            }
            for ran in [i] + (chain?.absorbed ?? []) + (fold.map { [$0.pad] } ?? []) {
                for v in steps[ran].distinctInputs {
                    readers[v, default: 0] -= 1
                    if readers[v] == 0 && !outputs.contains(v), let value = live.removeValue(forKey: v) {
                        pool.release(value.buffer)
                    }
                }
            }
        }
        return try model.outputs.map { name in
            guard let v = live[name] else { throw EngineError.outputNotComputed(name) }
            return v.tensor()
        }
    }

    /// Waits until this run's OpenBLAS thread count (``RunOptions/blasThreads``, 1 by default) is
    /// set and held steady.
    private func blasLease() throws -> BLASThreadLease {
        do { return try BLASThreadLease(threads: options.blasThreads ?? 1) } catch {
            throw EngineError.blasUnavailable("\(error)")
        }
    }
}
