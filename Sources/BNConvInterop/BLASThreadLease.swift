import BNConvCore

/// Permission to multiply with OpenBLAS at a given thread count, held while products run: while
/// any lease is held the count does not change (``BLASThreadGate``). Taking one may wait for
/// leases asking for another count to be returned; it is returned when the value goes away. Hold
/// it around engine work only: a caller's code, which may take another lease, runs inside
/// ``whileReturned(_:)`` (a nested lease for another count would otherwise wait for ever).
package struct BLASThreadLease: ~Copyable {
    /// The count products run with while the lease is held.
    package let threads: Int
    /// The loaded library.
    private let library: OpenBLASLibrary

    /// Waits until products may run with `threads` OpenBLAS threads (at least 1), loading OpenBLAS
    /// first; throws when it cannot be loaded.
    package init(threads: Int) throws {
        library = try OpenBLASLibrary.shared.get()
        self.threads = max(1, threads)
        BLASThreadGate.shared.enter(threads: self.threads, library: library)
    }

    /// Runs `body` with the lease returned, then waits to hold it again.
    package func whileReturned(_ body: () -> Void) {
        BLASThreadGate.shared.leave()
        body()
        BLASThreadGate.shared.enter(threads: threads, library: library)
    }

    deinit { BLASThreadGate.shared.leave() }
}
