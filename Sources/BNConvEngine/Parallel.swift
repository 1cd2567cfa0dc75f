import Dispatch
import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Runs independent chunks of work on every core (the engine's ``SpinningPool``, or
/// `DispatchQueue.concurrentPerform` when that is busy), or inline when there is only one chunk. GEMMs are parallel inside OpenBLAS instead, never both at once.
enum Parallel {
    /// The cores the machine has.
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// The number of cores to keep busy (process-wide; ``ModelRunner`` sets it from ``RunOptions``).
    nonisolated(unsafe) static var workers = cores

    /// Parts per core when a large product is split: more parts than cores let a core that is
    /// free pick up the work of one that another process holds (GCD hands iterations out dynamically).
    static let partsPerWorker = 4

    /// How many parts to split `extent` units of work into, each at least `minimum` units:
    /// 1 on one core, else up to ``partsPerWorker`` per core, a multiple of the core count when
    /// there are at least that many (so equal parts finish together on idle cores).
    static func parts(_ extent: Int, minimum: Int) -> Int {
        guard workers > 1 else { return 1 }
        let most = min(workers * partsPerWorker, extent / max(minimum, 1))
        return most < workers ? max(1, most) : most / workers * workers
    }

    /// Calls `body(i)` for every `i` in `0..<count`, concurrently when `count > 1`.
    @inline(__always)
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
        } else if workers == SpinningPool.shared.workers + 1, SpinningPool.shared.run(count, body) {
            return
        } else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }

    /// Splits `0..<total` into contiguous ranges sized for the cores (at most one range when the
    /// work, `total * costPerItem`, is too small to pay for threads) and runs `body` on each.
    @inline(__always)
    static func ranges(_ total: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        guard total > 0 else { return }
        let work = total * max(costPerItem, 1)
        let chunks = work < 1 << 14 ? 1 : min(total, workers * 4)
        forEach(chunks) { chunk in
            let lo = total * chunk / chunks, hi = total * (chunk + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}
