import Foundation
import BNConvCore
import BNConvEngine

/// The reference model's run on a thread of its own, beside the candidate's run on the caller's
/// thread: each value the candidate will compare with is handed over when the reference writes it
/// and let go when the candidate takes it.
///
/// The reference waits while the values it holds for the candidate exceed `heldLimit` bytes, unless
/// the candidate itself waits for one (then it runs on until it writes that value), so memory holds
/// about one layer's values of each model, and neither side can wait for the other for ever.
final class ReferenceRun: ReferenceValues, @unchecked Sendable {
    private let condition = NSCondition()
    /// Values written and not yet taken.
    private var values: [String: Tensor] = [:]
    private var heldBytes = 0
    /// Whether the candidate waits for a value (the reference then ignores the limit).
    private var candidateWaits = false
    /// Whether the candidate takes nothing more (the reference keeps nothing from then on).
    private var draining = false
    private var cancelled = false
    private var outcome: Result<[Tensor], Error>?
    private let done = DispatchSemaphore(value: 0)

    private let runner: ModelRunner
    private let inputs: [Tensor]
    private let observed: Bool
    private let wanted: Set<String>
    private let heldLimit: Int

    /// Starts running `runner` on `inputs` on a new thread; `observed` runs node by node and hands
    /// over the values in `wanted`.
    init(runner: ModelRunner, inputs: [Tensor], observed: Bool, wanted: Set<String>, heldLimit: Int) {
        self.runner = runner
        self.inputs = inputs
        self.observed = observed
        self.wanted = wanted
        self.heldLimit = heldLimit
        let thread = Thread { [self] in
            produce()
            done.signal()
        }
        thread.name = "bnconv verify: reference"
        thread.stackSize = 16 << 20
        thread.start()
    }

    private func produce() {
        let result = Result { () throws -> [Tensor] in
            let run = try runner.start(inputs, observed: observed)
            while try run.step(observe: observed ? { [self] in put($0, $1) } : nil, observes: wanted.contains) {
                if isCancelled { throw CancellationError() }
            }
            return try run.outputs()
        }
        condition.lock()
        outcome = result
        condition.broadcast()
        condition.unlock()
    }

    private var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    private func put(_ name: String, _ tensor: Tensor) {
        condition.lock()
        defer { condition.unlock() }
        while heldBytes > heldLimit && !candidateWaits && !draining && !cancelled { condition.wait() }
        guard !draining && !cancelled else { return }
        values[name] = tensor
        heldBytes += tensor.count * tensor.dtype.byteCount
        condition.broadcast()
    }

    /// Waits until the reference wrote `name` and takes it; `nil` when its run ended (or failed)
    /// without writing it.
    func take(_ name: String) -> Tensor? {
        condition.lock()
        defer { condition.unlock() }
        while values[name] == nil && outcome == nil {
            candidateWaits = true
            condition.broadcast()
            condition.wait()
        }
        candidateWaits = false
        guard let tensor = values.removeValue(forKey: name) else { return nil }
        heldBytes -= tensor.count * tensor.dtype.byteCount
        condition.broadcast()
        return tensor
    }

    /// Waits for the end of the reference's run: its outputs, or its error.
    func outputs() throws -> [Tensor] {
        finish(cancelling: false)
        return try outcome!.get()
    }

    /// Stops the run at its next node and waits for its thread to end.
    func cancel() {
        finish(cancelling: true)
    }

    /// Drops the values held (nothing more is taken), lets the run go on to its end or stop at its
    /// next node, and waits for its thread.
    private func finish(cancelling: Bool) {
        condition.lock()
        if cancelling { cancelled = true } else { draining = true }
        values.removeAll()
        heldBytes = 0
        condition.broadcast()
        condition.unlock()
        done.wait()
        done.signal()
    }
}
