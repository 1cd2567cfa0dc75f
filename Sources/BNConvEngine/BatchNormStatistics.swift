import BNConvCore
import BNConvModel
import BNConvInterop

/// Which statistics the BatchNorm nodes of a run normalize with.
public enum BatchNormStatistics: Equatable, Sendable {
    /// Each node as the model records it: the moving statistics, or the batch's moments for a node
    /// recorded in training mode (``BatchNormMode/init(_:)``).
    case asRecorded
    /// Every node normalizes with its batch's moments (biased variance), as Keras does under
    /// `model(x, training=True)`, and reports them (``BatchNormObservation``). Such nodes are never
    /// fused into the producer's epilogue; the moving statistics are not changed by the run.
    case batch
}
