import BNConvCore

/// How ``Checkpoint/read(_:config:deferringWeights:options:)`` and the format readers read a
/// file. Every reader takes one, defaulting to ``init(limits:allowsSpecialFiles:)`` with the default limits, so a
/// program that needs nothing special passes nothing.
public struct ReadOptions: Sendable, Equatable {
    /// The bounds checked before a tensor is allocated.
    public var limits: ReadLimits
    /// Whether a device, FIFO or socket may be read as if it were a file (by default only regular
    /// files are: a FIFO blocks, `/dev/zero` never ends).
    public var allowsSpecialFiles: Bool
    /// How a TensorFlow checkpoint or SavedModel becomes a model (its graph, outputs, signature).
    public var tensorFlow = TensorFlowGraphOptions()

    /// Options with `limits` (by default ``ReadLimits/defaultMaxTensorBytes`` for one tensor),
    /// reading special files only when `allowsSpecialFiles`.
    public init(limits: ReadLimits = ReadLimits(), allowsSpecialFiles: Bool = false) {
        self.limits = limits
        self.allowsSpecialFiles = allowsSpecialFiles
    }
}
