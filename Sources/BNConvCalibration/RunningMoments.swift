import BNConvCore
import BNConvModel
import BNConvEngine

/// Per-channel population mean and biased variance accumulated over batches in Double with Chan et
/// al.'s parallel merge (the pairwise form of Welford's update): merging `(n_a, mean_a, M2_a)` and
/// `(n_b, mean_b, M2_b)` gives `n = n_a + n_b`, `delta = mean_b - mean_a`,
/// `mean = mean_a + delta * n_b / n`, `M2 = M2_a + M2_b + delta^2 * n_a * n_b / n`.
/// The result does not depend on how the samples are split into batches, nor (up to rounding) on
/// their order.
public struct RunningMoments: Equatable, Sendable {
    /// Elements seen per channel.
    public private(set) var count: Int
    /// Mean per channel.
    public private(set) var mean: [Double]
    /// Sum of squared deviations from the mean per channel (`M2`).
    public private(set) var squaredDeviations: [Double]

    /// Empty moments over `channels` channels.
    public init(channels: Int) {
        count = 0
        mean = Array(repeating: 0, count: channels)
        squaredDeviations = mean
    }

    /// The biased (population) variance per channel: `M2 / n`.
    public var variance: [Double] {
        squaredDeviations.map { count > 0 ? $0 / Double(count) : 0 }
    }

    /// Merges a batch's moments (mean and biased variance over `batch.count` elements per channel).
    public mutating func merge(_ batch: BatchNormMoments) {
        precondition(batch.mean.count == mean.count, "merging \(batch.mean.count) channels into \(mean.count)")
        guard batch.count > 0 else { return }
        let na = Double(count), nb = Double(batch.count), n = na + nb
        for c in mean.indices {
            let delta = batch.mean[c] - mean[c]
            mean[c] += delta * nb / n
            squaredDeviations[c] += batch.variance[c] * nb + delta * delta * na * nb / n
        }
        count += batch.count
    }
}
