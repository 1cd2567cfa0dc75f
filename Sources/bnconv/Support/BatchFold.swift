import BNConv
import Foundation
import Synchronization

/// Runs a ``BatchPlan``: one `bnconv fold FILE --json` child process per file, at most `parallel`
/// at a time, and collects each child's result in the plan's order.
///
/// Separate processes, because libhdf5 (the serial build bnconv links) must not be entered from two
/// threads of one process, and so that a file that crashes its process, hangs until the read
/// watchdog ends it, or exhausts memory costs only its own result.
struct BatchFold {
    /// The files and their outputs.
    var plan: BatchPlan
    /// The arguments of the child for one file (after `fold`).
    var arguments: (BatchPlan.Job) -> [String]
    /// How many children run at once.
    var parallel: Int

    /// Runs every file; `finished` is called on this thread after each one (with the number done
    /// and the child's standard error), in the order they finish.
    func run(finished: (Int, BatchFoldEntry, Data) -> Void) -> [BatchFoldEntry] {
        var entries = [BatchFoldEntry?](repeating: nil, count: plan.jobs.count)
        var running: [Int: ChildProcess] = [:]
        let ended = Mutex<[Int]>([])
        let wake = DispatchSemaphore(value: 0)
        var next = 0, done = 0
        while done < plan.jobs.count {
            while running.count < parallel && next < plan.jobs.count {
                let index = next, job = plan.jobs[index]
                next += 1
                do {
                    running[index] = try ChildProcess(arguments: ["fold"] + arguments(job) + ["--", job.input]) {
                        ended.withLock { $0.append(index) }
                        wake.signal()
                    }
                } catch {
                    let entry = BatchFoldEntry(file: job.input, unstarted: error)
                    entries[index] = entry
                    done += 1
                    finished(done, entry, Data())
                }
            }
            guard !running.isEmpty else { continue }
            wake.wait()
            for index in ended.withLock({ list in defer { list.removeAll() }; return list }) {
                guard let child = running.removeValue(forKey: index) else { continue }
                let outcome = child.outcome()
                let entry = BatchFoldEntry(file: plan.jobs[index].input, outcome: outcome)
                entries[index] = entry
                done += 1
                finished(done, entry, outcome.stderr)
            }
        }
        return entries.map { $0! }
    }

    /// The exit status of the batch: the highest of the files' (3 when any failed verification,
    /// else 2 or 1 when any failed, else 0).
    static func exitStatus(_ entries: [BatchFoldEntry]) -> Int32 {
        entries.map(\.exitStatus).max() ?? 0
    }
}
