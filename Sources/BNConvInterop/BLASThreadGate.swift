#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import BNConvCore

/// Keeps OpenBLAS's thread count, a single process-wide setting inside OpenBLAS, steady while
/// products run: the count changes only when no ``BLASThreadLease`` is held, so a product never
/// runs while it changes, and runs asking for the same count (the engine's default is 1) hold
/// leases side by side.
///
/// A lease asking for another count than the one set waits until the leases held are returned,
/// then sets its count; while it waits, new leases for the old count wait too, so it is not
/// starved. Waiting polls (every ``pollMicroseconds``): it happens only when two runs on two
/// threads ask for different BLAS thread counts at the same time, where one run waits for the
/// other anyway.
final class BLASThreadGate: Sendable {
    /// What the gate knows.
    private struct State {
        /// The count set through the gate (`nil`: OpenBLAS's own default, not set yet).
        var threads: Int?
        /// Leases held.
        var holders = 0
        /// Leases waiting, by the count they ask for.
        var waiting: [Int: Int] = [:]

        /// Whether a lease for `threads` may join the ones held: the count is its own and no
        /// lease waits for another.
        func admits(_ threads: Int) -> Bool {
            self.threads == threads && waiting.keys.allSatisfy { $0 == threads }
        }
    }

    /// The gate in front of the process's OpenBLAS.
    static let shared = BLASThreadGate()

    /// How long a waiting lease sleeps between checks.
    static let pollMicroseconds: UInt32 = 100

    private let state = Mutex(State())

    /// Waits until products may run with `threads` threads (setting the count if no lease is held),
    /// and counts one more lease.
    func enter(threads wanted: Int, library: OpenBLASLibrary) {
        let wanted = max(1, wanted)
        var registered = false
        while true {
            let entered = state.withLock { state -> Bool in
                if state.holders == 0 && (registered || state.waiting.isEmpty) {
                    if state.threads != wanted {
                        Self.set(wanted, in: library)
                        state.threads = wanted
                    }
                } else if !state.admits(wanted) {
                    if !registered {
                        registered = true
                        state.waiting[wanted, default: 0] += 1
                    }
                    return false
                }
                state.holders += 1
                if registered {
                    state.waiting[wanted]! -= 1
                    if state.waiting[wanted] == 0 { state.waiting[wanted] = nil }
                }
                return true
            }
            if entered { return }
            usleep(Self.pollMicroseconds)
        }
    }

    /// Counts one lease fewer.
    func leave() {
        state.withLock { $0.holders -= 1 }
    }

    /// Runs `body` when no lease is held, with none starting until it returns (for calls that
    /// must not overlap a product, such as stopping OpenBLAS's workers). While it waits, new
    /// leases wait too (it waits as a lease for ``exclusiveKey`` threads would).
    func exclusively(_ body: () -> Void) {
        var registered = false
        while true {
            let ran = state.withLock { state -> Bool in
                guard state.holders == 0 else {
                    if !registered {
                        registered = true
                        state.waiting[Self.exclusiveKey, default: 0] += 1
                    }
                    return false
                }
                body()
                if registered {
                    state.waiting[Self.exclusiveKey]! -= 1
                    if state.waiting[Self.exclusiveKey] == 0 { state.waiting[Self.exclusiveKey] = nil }
                }
                return true
            }
            if ran { return }
            usleep(Self.pollMicroseconds)
        }
    }

    /// The count ``exclusively(_:)`` waits under (no lease asks for it: leases ask for 1 or more).
    private static let exclusiveKey = 0

    /// Sets the count; setting 1 also stops the worker threads OpenBLAS started (and keeps
    /// busy-waiting) when it was loaded, which would otherwise compete with the engine's own
    /// threads for the cores.
    private static func set(_ threads: Int, in library: OpenBLASLibrary) {
        library.setThreads(Int32(threads))
        if threads <= 1 { _ = library.shutdownThreads?() }
    }
}
