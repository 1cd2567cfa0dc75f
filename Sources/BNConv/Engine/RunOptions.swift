/// How a ``ModelRunner`` runs a model.
public struct RunOptions: Equatable, Sendable {
    /// Threads for OpenBLAS's GEMMs; `nil` keeps one per core. Element-wise kernels use every core.
    public var blasThreads: Int?
    /// Whether each run records per-node wall times in ``ModelRunner/lastNodeTimes``.
    public var recordsNodeTimes: Bool

    /// Creates options.
    public init(blasThreads: Int? = nil, recordsNodeTimes: Bool = false) {
        self.blasThreads = blasThreads
        self.recordsNodeTimes = recordsNodeTimes
    }
}
