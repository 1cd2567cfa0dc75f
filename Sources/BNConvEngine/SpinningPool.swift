import Foundation
import Synchronization
import BNConvCore
import BNConvModel
import BNConvInterop

/// The engine's own worker threads for ``Parallel/forEach(_:_:)``: they wait for the next parallel
/// step by spinning for a short while (``spinLimit`` checks, tens of microseconds) before they sleep,
/// so the many short parallel steps of a run (each layer has one to three) start at once instead of
/// after a thread wake-up each. In this VM a wake-up through GCD costs tens of microseconds, and a
/// ResNet-50 run at batch 1 has about 150 parallel steps of 50-500 microseconds.
///
/// One job runs at a time: a caller that finds the pool busy (another thread's job, or a nested
/// call from inside a job) is told so and runs its work another way. The caller takes part in its
/// own job and returns only when every iteration has finished and no worker still holds the job.
/// Two runs on two threads share the pool this way: each job is one caller's, with its own
/// iterations and counters, so a worker never runs one run's iterations under another's job.
final class SpinningPool: Sendable {
    /// One posted job.
    private final class Job: Sendable {
        /// The work (cleared by the caller before it returns, so that no worker keeps it).
        let body: Mutex<ConcurrentIterations?>
        /// Iterations.
        let count: Int
        /// The next iteration to hand out.
        let next = Atomic<Int>(0)
        /// Iterations not yet finished.
        let remaining: Atomic<Int>
        /// Workers holding the job.
        let holders = Atomic<Int>(0)

        init(count: Int, body: ConcurrentIterations) {
            self.count = count
            self.body = Mutex(body)
            remaining = Atomic<Int>(count)
        }

        /// Runs iterations until none is left (nothing once the caller has cleared the body).
        func work() {
            guard let body = body.withLock({ $0 }) else { return }
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body.run(i)
                remaining.wrappingSubtract(1, ordering: .releasing)
            }
        }
    }

    /// Checks of the job counter a waiting worker makes before it sleeps.
    static let spinLimit = 20_000

    /// Most threads (caller included) the engine's pool runs on: spinning workers suit a few
    /// cores; a larger machine keeps GCD's threads.
    static let largestTeam = 8

    /// The pool for the engine: one worker per core beyond the caller's, up to ``largestTeam``.
    static let shared = SpinningPool(workers: min(Parallel.cores, largestTeam) - 1)

    /// Worker threads.
    let workers: Int
    /// Bumped for every job posted (workers spin on it).
    private let generation = Atomic<Int>(0)
    /// Sleeping workers wait on it; a job is posted (``generation`` bumped) while it is locked.
    private let condition = NSCondition()
    /// The job being run, if any.
    private let current = Mutex<Job?>(nil)
    /// Whether a caller owns the pool.
    private let busy = Atomic<Bool>(false)

    /// Starts `workers` threads (none for 0). The threads keep the pool alive for the life of
    /// the process (the engine's pool is made once).
    init(workers: Int) {
        self.workers = max(0, workers)
        for _ in 0..<self.workers {
            let thread = Thread { self.workerLoop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body(i)` for `i` in `0..<count` on the caller and the workers; false (nothing run)
    /// when the pool has no workers or is running another job.
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard workers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            let job = Job(count: count, body: ConcurrentIterations(body))
            current.withLock { $0 = job }
            condition.lock()
            generation.wrappingAdd(1, ordering: .releasing)
            condition.broadcast()
            condition.unlock()
            job.work()
            while job.remaining.load(ordering: .acquiring) > 0 { spinPause() }
            current.withLock { $0 = nil }
            while job.holders.load(ordering: .acquiring) > 0 { spinPause() }
            job.body.withLock { $0 = nil }
        }
        return true
    }

    /// A worker: waits for a job (spinning, then sleeping), takes part in it, repeats.
    private func workerLoop() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinLimit {
                    spinPause()
                    continue
                }
                condition.lock()
                while generation.load(ordering: .acquiring) == seen { condition.wait() }
                condition.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            // Taken and counted in one critical section: once the caller has cleared `current`,
            // no worker can start holding the job.
            let job = current.withLock { job -> Job? in
                job?.holders.wrappingAdd(1, ordering: .relaxed)
                return job
            }
            guard let job else { continue }
            job.work()
            job.holders.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// One step of a spin loop: a relaxed atomic load, which keeps the loop from being folded
    /// away without leaving the core (`sched_yield` would; x86's `pause` needs a C module).
    @inline(__always)
    private func spinPause() {
        _ = pauseSink.load(ordering: .relaxed)
    }
}

/// Read by ``SpinningPool``'s spin loops.
private let pauseSink = Atomic<Int>(0)
