import BNConvCore

/// Where a verification takes the reference model's values from while the candidate runs: a run
/// beside the candidate's on a core of its own (``ReferenceRun``), or one that takes turns with it
/// on the caller's thread (``ReferenceInTurns``).
protocol ReferenceValues: AnyObject {
    /// The reference's value `name` once it is written (`nil` when its run ends without writing
    /// it); each value is taken once and then let go.
    func take(_ name: String) throws -> Tensor?
    /// The reference's outputs, once its run has ended; its error if it failed.
    func outputs() throws -> [Tensor]
    /// Ends the run early (the candidate failed).
    func cancel()
}
