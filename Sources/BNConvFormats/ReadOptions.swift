import BNConvCore

/// How ``Checkpoint/read(_:config:deferringWeights:options:)`` and the format readers read a
/// file. Every reader takes one, defaulting to ``init(limits:)`` with the default limits, so a
/// program that needs nothing special passes nothing.
public struct ReadOptions: Sendable, Equatable {
    /// The bounds checked before a tensor is allocated.
    public var limits: ReadLimits

    /// Options with `limits` (by default ``ReadLimits/defaultMaxTensorBytes`` for one tensor).
    public init(limits: ReadLimits = ReadLimits()) {
        self.limits = limits
    }
}
