/// How a ``ModelRunner`` runs a model.
public struct RunOptions: Equatable, Sendable {
    /// Threads for OpenBLAS's GEMMs; `nil` keeps one per core. Element-wise kernels use every core.
    public var blasThreads: Int?

    /// Creates options.
    public init(blasThreads: Int? = nil) {
        self.blasThreads = blasThreads
    }
}
