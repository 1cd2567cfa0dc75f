import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop
import BNConvOps

/// One run of a ``ModelRunner``, advanced a node (or a fused chain) at a time.
///
/// ``ModelRunner/run(_:observe:batchNormMoments:)`` steps it to the end in one go. A verifier steps
/// two of them in turns, so that each value of one model is compared with the other's as soon as
/// both exist and neither run's intermediates pile up. The run holds its runner (other runs of it
/// wait) until it is finished or dropped; it holds OpenBLAS's thread count only while a kernel
/// runs, never while the caller's callbacks do.
package final class RunInProgress {
    private let runner: ModelRunner
    private let context: KernelContext
    /// Values written and not yet released, by name.
    private var live: [String: EngineValue] = [:]
    /// Readers left per value.
    private var readers: [String: Int]
    /// Chains whose residual operand turned out another shape this run, or was not written yet
    /// (its own chain ran step by step): their steps run one by one.
    private var unfused: Set<Int> = []
    /// The next step to consider.
    private var next = 0
    /// Whether chains are fused and zero paddings folded (not when every value is observed).
    private let fuses: Bool
    private var holdsRunner = true
    /// The constants planned for this run's input shapes (nil: every node runs).
    private var plan: ConstantPlan?
    /// The input shapes the plan was made for.
    private let inputShapes: [[Int]]
    /// Whether a value turned out another shape than planned (the run stopped; its plan is dropped).
    private(set) var plannedShapeDiffered = false

    /// Takes `runner` (waiting for a run in progress) and loads `inputs` (in ``Model/inputs`` order).
    init(_ runner: ModelRunner, inputs: [Tensor], observed: Bool, observesMoments: Bool) throws {
        runner.lock.lock()
        self.runner = runner
        context = KernelContext(pool: runner.pool, parallel: runner.parallel)
        readers = runner.readerCounts
        fuses = !observed
        if observesMoments { context.batchNormObservations = [] }
        runner.lastNodeTimes.removeAll(keepingCapacity: true)
        runner.lastRunKernels = 0
        inputShapes = inputs.map(\.shape)
        do {
            try load(inputs)
        } catch {
            finish()
            throw error
        }
        plan = fuses ? runner.constantPlan(for: inputShapes) : nil
        runner.lastRunFolding = plan?.folding ?? .none
        if let plan {
            readers = plan.readerCounts
            for (name, value) in plan.constants {
                value.buffer.references += 1
                if let old = live.updateValue(value, forKey: name) { runner.pool.release(old.buffer) }
            }
        }
    }

    deinit { finish() }

    /// Releases every value and the runner, before the run ends when it is dropped.
    func end() { finish() }

    /// Releases every value and the runner (once).
    private func finish() {
        guard holdsRunner else { return }
        holdsRunner = false
        for value in live.values { runner.pool.release(value.buffer) }
        live.removeAll()
        runner.lock.unlock()
    }

    private func load(_ inputs: [Tensor]) throws {
        let model = runner.model
        guard inputs.count == model.inputs.count else {
            throw EngineError.inputCount(expected: model.inputs.count, got: inputs.count)
        }
        for (name, tensor) in zip(model.inputs, inputs) {
            if let declared = model.values[name]?.shape {
                let fits = declared.count == tensor.rank
                    && zip(declared.dropFirst(), tensor.shape.dropFirst()).allSatisfy { $0 == nil || $0 == $1 }
                guard fits else { throw EngineError.inputShape(name: name, declared: declared, got: tensor.shape) }
            }
            let value: EngineValue
            let declared = model.values[name]?.dtype ?? .float32
            if declared != .float32 {
                // An index, mask or float64 input keeps its declared type (converted to it).
                value = try TensorOpKernel.engineValue(try HostTensor(tensor).converted(to: declared), context)
            } else {
                value = try context.allocate(tensor.shape)
                tensor.floats().withUnsafeBufferPointer { if let base = $0.baseAddress { value.pointer.update(from: base, count: tensor.count) } }
            }
            if let old = live.updateValue(value, forKey: name) { runner.pool.release(old.buffer) }
        }
    }

    /// Runs the next node (or fused chain) and hands what it wrote to `observe` and the moments of
    /// BatchNorms normalizing by batch statistics to `batchNormMoments`; `false` once every node ran.
    /// The tensor given to `observe` is a copy the caller may keep; with `observes`, only the
    /// values it accepts are copied and handed over.
    package func step(observe: ((_ value: String, _ tensor: Tensor) -> Void)? = nil,
                      observes: ((String) -> Bool)? = nil,
                      batchNormMoments: ((BatchNormObservation) -> Void)? = nil) throws -> Bool {
        let steps = runner.steps
        while next < steps.count {
            let i = next
            next += 1
            if fuses, let head = runner.fusion.headOf[i], !unfused.contains(head) { continue }
            if fuses && runner.padFolding.skipped.contains(i) { continue }
            if let plan, plan.folded[i] { continue }
            // The value is copied only for an observer that wants it.
            let see: ((String, () -> Tensor) -> Void)? = observe.map { observe in
                { name, tensor in if observes?(name) ?? true { observe(name, tensor()) } }
            }
            try run(i, observe: see, batchNormMoments: batchNormMoments)
            return true
        }
        return false
    }

    /// The model's outputs in ``Model/outputs`` order (float32 copies), once every step ran.
    package func outputs() throws -> [Tensor] {
        try runner.model.outputs.map { name in
            guard let v = live[name] else { throw EngineError.outputNotComputed(name) }
            return v.tensor()
        }
    }

    private func run(_ i: Int, observe: ((_ value: String, _ tensor: () -> Tensor) -> Void)?,
                     batchNormMoments: ((BatchNormObservation) -> Void)?) throws {
        let step = runner.steps[i]
        let outputs = runner.outputNames
        let started = runner.options.recordsNodeTimes ? DispatchTime.now().uptimeNanoseconds : 0
        let fold = fuses ? runner.padFolding.folds[i] : nil
        let node = fold?.node ?? step.node
        let stepKernel = fold?.kernel ?? plannedKernel(i) ?? step.kernel
        var args = node.inputs.map { live[$0]! }
        var chain = fuses ? runner.fusion.chains[i] : nil
        if let c = chain, !c.residualShapes.isEmpty,
           !c.residualsFit(batch: args.first?.shape.first ?? -1, { live[$0] }) {
            unfused.insert(i)
            chain = nil
        }
        // A node may overwrite an input it reads last; a value's buffer goes back to the pool once
        // its last reader has run (fused steps run with their chain's head).
        context.reusable = zip(node.inputs, node.inputReadCounts).map { name, timesRead in
            readers[name] == 1 && !outputs.contains(name) && live[name]!.buffer.references == 1 && timesRead == 1
        }
        let several = stepKernel as? MultiOutputKernel
        var converted: [EngineValue] = []
        defer { for value in converted { runner.pool.release(value.buffer) } }
        if several == nil {
            for (k, arg) in args.enumerated() where arg.typed != nil {
                // The CNN kernels compute in float32: a float16 or float64 value is converted for
                // them (as weights of those types are); integers and bools are refused.
                guard let typed = arg.typed, typed.dtype.isFloatingPoint else {
                    throw EngineError.nodeFailed(node: node.name, op: node.opName,
                                                 problem: "it reads '\(node.inputs[k])', a \(arg.dtype) tensor; it computes in float32")
                }
                let value = try TensorOpKernel.engineValue(typed.converted(to: DType.float32), context)
                converted.append(value)
                args[k] = value
            }
        }
        let results: [EngineValue]
        // Held while the kernel runs only: the caller's callbacks may run another runner.
        let lease = try runner.blasLease()
        do {
            if let chain, let kernel = stepKernel as? FusableKernel {
                results = [try kernel.run(args, context, tail: chain.tail { live[$0]! })]
            } else if let several {
                results = try several.runAll(args, context)
            } else {
                results = [try stepKernel.run(args, context)]
            }
            _ = consume lease
        } catch {
            throw EngineError.nodeFailed(node: node.name, op: node.opName, problem: "\(error)")
        }
        let result = results[0]
        runner.lastRunKernels += 1
        if runner.options.recordsNodeTimes {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            runner.lastNodeTimes.append((node.name, node.opName, ms, result.shape))
        }
        if let old = live.updateValue(result, forKey: chain?.output ?? node.outputs[0]) { runner.pool.release(old.buffer) }
        for (name, extra) in zip(node.outputs.dropFirst(), results.dropFirst()) {
            if let old = live.updateValue(extra, forKey: name) { runner.pool.release(old.buffer) }
        }
        if let expected = plan?.expectedShapes, !expected.isEmpty {
            try checkPlannedShapes(expected, written: [chain?.output ?? node.outputs[0]] + node.outputs.dropFirst(), node: node)
        }
        if let observations = context.batchNormObservations, !observations.isEmpty {
            for observation in observations { batchNormMoments?(observation) }
            context.batchNormObservations = []
        }
        for (name, value) in zip(node.outputs, results) { observe?(name, { value.tensor() }) }
        for ran in [i] + (chain?.absorbed ?? []) + (fold.map { [$0.pad] } ?? []) {
            for v in runner.steps[ran].distinctInputs {
                readers[v, default: 0] -= 1
                if readers[v] == 0 && !outputs.contains(v), let value = live.removeValue(forKey: v) {
                    runner.pool.release(value.buffer)
                }
            }
        }
    }

    /// The kernel the plan runs step `i` with instead of its own, if any.
    private func plannedKernel(_ i: Int) -> EngineKernel? {
        guard let kernels = plan?.kernels, i < kernels.count else { return nil }
        return kernels[i]
    }

    /// Throws when a value among `written` has another shape than the one the plan's constants
    /// were evaluated from, and drops the plan for these input shapes: planning inferred it wrong.
    private func checkPlannedShapes(_ expected: [String: [Int]], written: [String], node: Node) throws {
        for name in written {
            guard let planned = expected[name], let got = live[name]?.shape, got != planned else { continue }
            plannedShapeDiffered = true
            runner.dropConstantPlan(for: inputShapes)
            throw EngineError.nodeFailed(node: node.name, op: node.opName,
                                         problem: "its output '\(name)' has shape \(got), not the \(planned) planning inferred for the constants read from it")
        }
    }
}
