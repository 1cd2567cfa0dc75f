import BNConvCore

/// Fills the gaps a writer leaves in a new file for tensors still to be computed (the folded
/// kernels of a fold without verification, packed as skipped ranges by ``ByteSink/skip(_:)``):
/// each is computed from the input's mapping on the cores and written into its gap with direct
/// I/O (``ConcurrentTensorWriter``), as the folded kernels of a `.h5` are, starting as soon as the
/// packer has passed it, while the packer goes on with the rest of the file.
final class ComputedTensorGaps {
    /// The file being written.
    private let path: String
    /// The file the user asked for, for errors.
    private let target: String
    /// The writer, made with the first gap.
    private var writer: ConcurrentTensorWriter?
    /// Gaps whose tensor cannot be computed on another thread: computed here by ``finish()``.
    private var later: [(content: Tensor, offset: Int)] = []
    /// The first failure to start the writer.
    private var failure: Error?

    /// Gaps of the existing file `path`; `target` names the file the user asked for in errors.
    init(path: String, target: String) {
        self.path = path
        self.target = target
    }

    /// Queues `content`'s raw bytes for the gap at `offset` (never throws: a packer's callback
    /// calls it; failures come from ``finish()``).
    func add(_ content: Tensor, at offset: Int) {
        guard content.loadsConcurrently || !content.isDeferred else {
            later.append((content, offset))
            return
        }
        do {
            if writer == nil, failure == nil { writer = try ConcurrentTensorWriter(path: path) }
            writer?.enqueue(content, at: offset)
        } catch {
            failure = failure ?? error
        }
    }

    /// Computes what is left, waits until every gap is written and throws the first failure. A
    /// computation's own error (a folded kernel found to hold NaN: ``DeferredComputationError``)
    /// is passed on for the caller to plan again.
    func finish() throws {
        do {
            if let failure { throw failure }
            for (content, offset) in later {
                if writer == nil { writer = try ConcurrentTensorWriter(path: path) }
                writer?.enqueue(try content.materialized(), at: offset)
            }
            later = []
            try writer?.finish()
        } catch let error as any DeferredComputationError {
            throw error
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(.writeFailed, file: target, problem: "\(error)")
        }
    }
}
