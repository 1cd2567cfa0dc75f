import Dispatch
import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// How many cores one run's kernels keep busy, and the loops that spread a step's independent
/// chunks of work over them (the engine's ``SpinningPool``, or `DispatchQueue.concurrentPerform`
/// when that is busy), or run them inline when there is one chunk or one core. GEMMs are parallel
/// inside OpenBLAS instead, never both at once.
///
/// A value, not process state: a ``ModelRunner`` makes one from ``RunOptions/threads`` and its
/// kernels receive it through ``KernelContext``, so two runs on two threads with different thread
/// counts split their work each by its own count. Other layers (verification's error sums) use
/// it for work of their own.
package struct Parallel: Equatable, Sendable {
    /// The cores the machine has.
    package static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Every core (what a run uses unless ``RunOptions/threads`` says otherwise).
    package static let allCores = Parallel(workers: cores)

    /// The number of cores to keep busy (at least 1).
    package let workers: Int

    /// Work spread over `workers` cores (at least 1).
    init(workers: Int) { self.workers = max(1, workers) }

    /// Work spread over `threads` cores, or every core when `nil`.
    package init(threads: Int?) { self.init(workers: threads ?? Self.cores) }

    /// Parts per core when a large product is split: more parts than cores let a core that is
    /// free pick up the work of one that another process holds (GCD hands iterations out dynamically).
    static let partsPerWorker = 4

    /// How many parts to split `extent` units of work into, each at least `minimum` units:
    /// 1 on one core, else up to ``partsPerWorker`` per core, a multiple of the core count when
    /// there are at least that many (so equal parts finish together on idle cores).
    func parts(_ extent: Int, minimum: Int) -> Int {
        guard workers > 1 else { return 1 }
        let most = min(workers * Self.partsPerWorker, extent / max(minimum, 1))
        return most < workers ? max(1, most) : most / workers * workers
    }

    /// Calls `body(i)` for every `i` in `0..<count`: in order on the calling thread when there is
    /// one chunk or one core, else concurrently, each call on its own part of the output (the
    /// contract of `DispatchQueue.concurrentPerform`). The engine's pool takes the job when it
    /// has exactly the workers this run asks for and no other job; else GCD runs it.
    @inline(__always)
    package func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
        } else if workers == 1 {
            for i in 0..<count { body(i) }
        } else if workers == SpinningPool.shared.workers + 1, SpinningPool.shared.run(count, body) {
            return
        } else {
            withoutActuallyEscaping(body) { body in
                let iterations = ConcurrentIterations(body)
                DispatchQueue.concurrentPerform(iterations: count) { iterations.run($0) }
            }
        }
    }

    /// Splits `0..<total` into contiguous ranges sized for the cores (at most one range when the
    /// work, `total * costPerItem`, is too small to pay for threads) and runs `body` on each.
    @inline(__always)
    func ranges(_ total: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        guard total > 0 else { return }
        let work = total * max(costPerItem, 1)
        let chunks = work < 1 << 14 || workers == 1 ? 1 : min(total, workers * 4)
        forEach(chunks) { chunk in
            let lo = total * chunk / chunks, hi = total * (chunk + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}
