import BNConvCore

/// The body of one ``Parallel/forEach(_:_:)`` call, handed to the threads that run its iterations
/// (the ``SpinningPool``'s workers or GCD's).
///
/// Safe because (the one unchecked `Sendable` of the engine): a kernel's body captures unsafe
/// pointers into the step's buffers, which Swift cannot prove safe to share, and every call writes
/// only the part of the output its index names (disjoint ranges, rows or channels; reads are
/// shared), the contract `DispatchQueue.concurrentPerform` has always had. A value lives only
/// inside the `withoutActuallyEscaping` of the `forEach` that made it: the caller returns only
/// when every iteration has finished and no worker still holds the body, which
/// `withoutActuallyEscaping` checks at run time.
struct ConcurrentIterations: @unchecked Sendable {
    /// The iteration to run for each index.
    private let body: (Int) -> Void

    /// Wraps `body` (which must not outlive the `forEach` call it belongs to).
    init(_ body: @escaping (Int) -> Void) { self.body = body }

    /// Runs iteration `index`.
    @inline(__always)
    func run(_ index: Int) { body(index) }
}
