import BNConvCore
import BNConvModel
import BNConvInterop

/// How a ``ModelRunner`` runs a model.
public struct RunOptions: Equatable, Sendable {
    /// Threads OpenBLAS may use inside one matrix product; `nil` means 1: the engine splits
    /// products and every other kernel across the cores itself, and OpenBLAS's spinning workers
    /// would otherwise compete with it for the same cores. OpenBLAS keeps one count per process:
    /// runs on other threads asking for another count take turns with this one (``ModelRunner``).
    public var blasThreads: Int?
    /// Cores the engine's own kernels use, for this runner's runs only; `nil` means every core.
    public var threads: Int?
    /// Whether each run records per-node wall times in ``ModelRunner/lastNodeTimes``.
    public var recordsNodeTimes: Bool
    /// Which statistics BatchNorm nodes normalize with (``BatchNormStatistics/batch`` for a
    /// training-mode forward, as recalibration runs it).
    public var batchNormStatistics: BatchNormStatistics
    /// Whether channels-first 3x3 stride-1 convolutions with enough channels and positions run by
    /// Winograd's minimal filtering, F(4x4, 3x3) or F(2x2, 3x3) (2.25-4x fewer multiply-adds; the sums
    /// are rounded differently, within a few 1e-6 of the largest output), rather than as direct products.
    public var winograd: Bool
    /// Whether the large weight matrices (conv, dense, depthwise, separable and transposed conv
    /// kernels) stay where the model holds them, still in their file for a model read with deferred
    /// weights, and are made each time their node runs instead of being prepared once: memory stays
    /// near the model's mapped size plus one weight at a time, at the price of converting each weight at
    /// every run (a float32 weight in the kernel's own layout is read in place). Such a runner does not
    /// use Winograd's algorithm. For runs of a model too large to hold twice, as verification does.
    public var streamsWeights: Bool
    /// Whether op-library nodes whose result depends on no input value (shape arithmetic on the
    /// shapes a run's input shapes determine, ops on constants only) are evaluated once, when a run
    /// of new input shapes is planned, instead of at every run (``ConstantFolding``). The results
    /// are the same bits either way; a run that observes every value runs every node.
    public var foldsConstants: Bool

    /// Creates options.
    public init(threads: Int? = nil, blasThreads: Int? = nil, recordsNodeTimes: Bool = false,
                batchNormStatistics: BatchNormStatistics = .asRecorded, winograd: Bool = true, streamsWeights: Bool = false,
                foldsConstants: Bool = true) {
        self.threads = threads
        self.blasThreads = blasThreads
        self.recordsNodeTimes = recordsNodeTimes
        self.batchNormStatistics = batchNormStatistics
        self.winograd = winograd
        self.streamsWeights = streamsWeights
        self.foldsConstants = foldsConstants
    }
}
