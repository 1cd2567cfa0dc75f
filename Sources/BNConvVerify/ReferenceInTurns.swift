import BNConvCore
import BNConvEngine

/// The reference model's run on the caller's thread, taking turns with the candidate's: it goes
/// on only until it has written the value the candidate asks for, so it keeps only the values the
/// candidate has not reached yet. For one core, where a run beside the candidate's
/// (``ReferenceRun``) would take turns with it anyway.
final class ReferenceInTurns: ReferenceValues {
    private let run: RunInProgress
    private let observed: Bool
    private let wanted: Set<String>
    /// Values written and not yet taken.
    private var captured: [String: Tensor] = [:]
    private var finished = false

    /// Starts running `runner` on `inputs`; `observed` runs node by node and keeps the values in
    /// `wanted` until they are taken.
    init(runner: ModelRunner, inputs: [Tensor], observed: Bool, wanted: Set<String>) throws {
        run = try runner.start(inputs, observed: observed)
        self.observed = observed
        self.wanted = wanted
    }

    func take(_ name: String) throws -> Tensor? {
        while !finished && captured[name] == nil { try advance(keeping: true) }
        return captured.removeValue(forKey: name)
    }

    func outputs() throws -> [Tensor] {
        captured.removeAll()
        while !finished { try advance(keeping: false) }
        return try run.outputs()
    }

    /// Nothing to stop: the run goes no further than it was asked to, and lets its runner go with it.
    func cancel() {}

    /// Runs the next step, keeping what it wrote when asked for and `keeping`.
    private func advance(keeping: Bool) throws {
        finished = !(try run.step(observe: observed && keeping ? { [self] in captured[$0] = $1 } : nil, observes: wanted.contains))
    }
}
