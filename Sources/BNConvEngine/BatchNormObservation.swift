import BNConvCore
import BNConvModel
import BNConvInterop

/// What a BatchNorm node normalizing with batch statistics saw in one run: its input's shape and
/// per-channel moments.
public struct BatchNormObservation: Equatable, Sendable {
    /// The BN node's name.
    public var node: String
    /// The shape of its input (batch included).
    public var inputShape: [Int]
    /// Per-channel mean and biased variance of its input over every axis but the channel axis.
    public var moments: BatchNormMoments

    /// Creates an observation.
    public init(node: String, inputShape: [Int], moments: BatchNormMoments) {
        self.node = node
        self.inputShape = inputShape
        self.moments = moments
    }
}
