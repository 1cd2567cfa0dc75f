import Foundation

/// Writes deferred tensors into a file at the offsets where another library reserved their
/// storage: computed on a second core while the caller goes on laying out the rest of the file
/// (and on the caller's core too once it calls ``finish()``), and written by a thread of their
/// own, so that the disk always has the next write while the cores compute.
///
/// For a fold without verification: the writer's thread creates each folded kernel's dataset
/// through libhdf5 (the serial build, so one thread only), which says where its bytes go; the
/// kernel is then scaled from the input file's mapping straight into a buffer placed for direct
/// I/O and written there (``DirectRangeWriter``). At most ``depth`` buffers exist, each as large as
/// the largest tensor it held, so memory grows by that many tensors, not by the model; a buffer
/// beyond the first is made only while the buffers stay within ``bufferBudget`` bytes, so that a
/// model of a few very large kernels holds one or two of them, not three.
///
/// Only tensors that ``Tensor/loadsConcurrently`` may be given. The first failure (a read, a
/// computation that throws, a write) stops the remaining work and is thrown by ``finish()``.
/// Dropping the writer before ``finish()`` stops it after the tensors in hand and waits for them.
package final class ConcurrentTensorWriter {
    /// What the threads share (they hold it, not the writer, so dropping the writer stops them).
    private let state: State
    /// Buffers in use or free, at most.
    var depth: Int { state.depth }
    /// Buffers made so far.
    var buffersMade: Int { state.buffersMade }
    /// The bytes the buffers beyond the first may bring the total to: 64 MiB.
    package static let bufferBudget = 64 << 20

    /// A writer into the existing file at `path`, with `workers` computing threads besides the
    /// caller's (by default one per core but one) and one writing thread. `whenComputed`, when
    /// given, sees each tensor's bytes and file offset on the thread that computed them, before
    /// they are written (a zip writer takes their CRC-32 there, while they are in the cache).
    package init(path: String, workers: Int = max(0, ProcessInfo.processInfo.activeProcessorCount - 1), direct: Bool = true,
                 bufferBudget: Int = ConcurrentTensorWriter.bufferBudget,
                 whenComputed: (@Sendable (_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Void)? = nil) throws {
        let workers = min(max(0, workers), 7)
        state = State(destination: try DirectRangeWriter(path: path, direct: direct), depth: workers + 2, workers: workers,
                      bufferBudget: bufferBudget, whenComputed: whenComputed)
        // Threads of their own, not GCD blocks: they wait on each other, and GCD, which does not
        // see an NSCondition wait, can hold a queued block back for seconds on a busy pool.
        for _ in 0..<workers {
            Self.spawn { [state] in state.computeUntilDone(isWorker: true) }
        }
        Self.spawn { [state] in state.writeUntilDone() }
    }

    deinit { state.cancel() }

    /// Runs `body` on a new thread.
    private static func spawn(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.qualityOfService = .userInitiated
        thread.start()
    }

    /// Queues `tensor`'s bytes for file offset `offset`.
    package func enqueue(_ tensor: Tensor, at offset: Int) {
        precondition(tensor.loadsConcurrently || !tensor.isDeferred, "a tensor read through a serial library cannot be written on another thread")
        state.enqueue(tensor, at: offset)
    }

    /// Computes what is left on this thread too, waits until everything is written and throws the
    /// first failure.
    package func finish() throws {
        try state.finish()
    }

    /// The queue, the buffers and the threads' work.
    // Safe because every mutable property below is read and written only while `condition` is
    // locked (each method locks it first), the buffers and regions handed out are each used by one
    // thread at a time (a computing thread fills one, then hands it to the writing thread under the
    // lock), `destination` is itself Sendable (independent `pwrite`s) and `whenComputed` is a
    // `@Sendable` closure, called with a region only by the thread that filled it.
    private final class State: @unchecked Sendable {
        /// Where the bytes go.
        let destination: DirectRangeWriter
        /// Sees each computed tensor's bytes and offset before they are written.
        let whenComputed: (@Sendable (UnsafeRawBufferPointer, Int) -> Void)?
        /// Buffers in use or free, at most.
        let depth: Int
        private let condition = NSCondition()
        /// Tensors to compute, in the order given, and the next one to take.
        private var jobs: [(tensor: Tensor, offset: Int)?] = []
        private var nextJob = 0
        /// Computed tensors waiting for the writing thread.
        private var filled: [(buffer: AlignedBuffer, region: UnsafeMutableRawBufferPointer, offset: Int)] = []
        /// Buffers free for computing into, and how many have been made.
        private var free: [AlignedBuffer] = []
        private var made = 0, madeBytes = 0
        /// No more jobs will be added.
        private var closed = false
        /// The first failure.
        private var failure: Error?
        /// Computing threads (besides the caller's) and the writing thread still running, and
        /// computations in progress.
        private var computing: Int, writing = 1, inHand = 0

        /// The bytes the buffers beyond the first may bring the total to.
        let bufferBudget: Int

        init(destination: DirectRangeWriter, depth: Int, workers: Int, bufferBudget: Int,
             whenComputed: (@Sendable (UnsafeRawBufferPointer, Int) -> Void)?) {
            self.bufferBudget = bufferBudget
            self.destination = destination
            self.whenComputed = whenComputed
            self.depth = depth
            computing = workers
        }

        /// Buffers made so far.
        var buffersMade: Int {
            condition.lock()
            defer { condition.unlock() }
            return made
        }

        func enqueue(_ tensor: Tensor, at offset: Int) {
            condition.lock()
            jobs.append((tensor, offset))
            condition.broadcast()
            condition.unlock()
        }

        func finish() throws {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
            computeUntilDone(isWorker: false)
            condition.lock()
            while computing > 0 || writing > 0 { condition.wait() }
            let failure = self.failure
            condition.unlock()
            if let failure { throw failure }
        }

        /// Stops the work after what is in hand and waits for the threads.
        func cancel() {
            condition.lock()
            closed = true
            if failure == nil { failure = CancellationError() }
            jobs.removeAll()
            nextJob = 0
            condition.broadcast()
            while computing > 0 || writing > 0 { condition.wait() }
            condition.unlock()
        }

        /// Records the first failure and wakes everyone.
        private func fail(_ error: Error) {
            condition.lock()
            if failure == nil { failure = error }
            condition.broadcast()
            condition.unlock()
        }

        /// Takes jobs and computes them into free buffers until there are none left (or one failed).
        func computeUntilDone(isWorker: Bool) {
            while let (job, buffer) = takeJob() {
                let bytes = job.tensor.count * job.tensor.dtype.byteCount
                let region = buffer.region(count: bytes, forFileOffset: job.offset)
                do {
                    try job.tensor.load(into: region)
                    whenComputed?(UnsafeRawBufferPointer(region), job.offset)
                    condition.lock()
                    inHand -= 1
                    filled.append((buffer, region, job.offset))
                    condition.broadcast()
                    condition.unlock()
                } catch {
                    condition.lock()
                    inHand -= 1
                    free.append(buffer)
                    condition.unlock()
                    fail(error)
                }
            }
            if isWorker {
                condition.lock()
                computing -= 1
                condition.broadcast()
                condition.unlock()
            }
        }

        /// The next job and a buffer for it, waiting for both while more may come; nil when done or failed.
        private func takeJob() -> (job: (tensor: Tensor, offset: Int), buffer: AlignedBuffer)? {
            condition.lock()
            defer { condition.unlock() }
            while true {
                if failure != nil { return nil }
                if nextJob < jobs.count {
                    let buffer: AlignedBuffer
                    let bytes = jobs[nextJob]!.tensor.count * jobs[nextJob]!.tensor.dtype.byteCount
                    if let reused = free.popLast() {
                        buffer = reused
                    } else if made == 0 || (made < depth && madeBytes + bytes <= bufferBudget) {
                        made += 1
                        madeBytes += bytes
                        buffer = AlignedBuffer()
                    } else {
                        condition.wait()
                        continue
                    }
                    let job = jobs[nextJob]!
                    // The queue lets go of the tensor: its source (and what it holds) goes with the job.
                    jobs[nextJob] = nil
                    nextJob += 1
                    inHand += 1
                    return (job, buffer)
                }
                if closed { return nil }
                condition.wait()
            }
        }

        /// Writes computed tensors as they come until every job is computed and written (or one failed).
        func writeUntilDone() {
            while true {
                condition.lock()
                while filled.isEmpty && failure == nil && !(closed && nextJob == jobs.count && inHand == 0) { condition.wait() }
                guard failure == nil, !filled.isEmpty else {
                    writing -= 1
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                let item = filled.removeFirst()
                condition.unlock()
                do {
                    try destination.write(UnsafeRawBufferPointer(item.region), at: item.offset)
                } catch {
                    fail(error)
                }
                condition.lock()
                free.append(item.buffer)
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
