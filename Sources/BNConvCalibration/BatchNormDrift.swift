import BNConvCore
import BNConvModel
import BNConvEngine

/// How far one BatchNorm's moving statistics moved in a recalibration: the user's view of which
/// layers were stale.
///
/// The mean's change is measured in units of the old standard deviation,
/// `|new_mean - old_mean| / sqrt(old_var + eps)` (how far the normalized output shifts, and finite
/// for a channel whose mean is zero); the variance's change is relative,
/// `|new_var - old_var| / (old_var + eps)`. Each is given as the maximum and the mean over channels.
public struct BatchNormDrift: Equatable, Sendable, Codable {
    /// The BN node's name.
    public var node: String
    /// Its channel count.
    public var channels: Int
    /// Largest change of the mean over channels.
    public var meanMaxChange: Double
    /// Average change of the mean over channels.
    public var meanMeanChange: Double
    /// Largest relative change of the variance over channels.
    public var varianceMaxChange: Double
    /// Average relative change of the variance over channels.
    public var varianceMeanChange: Double

    /// The drift from `old` to `new` statistics of node `node` with `epsilon`.
    public init(node: String, oldMean: [Double], oldVariance: [Double], newMean: [Double], newVariance: [Double],
                epsilon: Double) {
        precondition(oldMean.count == newMean.count && oldVariance.count == newVariance.count, "drift of differing channel counts")
        self.node = node
        channels = oldMean.count
        var meanChanges: [Double] = [], varianceChanges: [Double] = []
        for c in oldMean.indices {
            let scale = max(oldVariance[c] + epsilon, .leastNormalMagnitude)
            meanChanges.append(abs(newMean[c] - oldMean[c]) / scale.squareRoot())
            varianceChanges.append(abs(newVariance[c] - oldVariance[c]) / scale)
        }
        let n = Double(max(channels, 1))
        meanMaxChange = meanChanges.max() ?? 0
        meanMeanChange = meanChanges.reduce(0, +) / n
        varianceMaxChange = varianceChanges.max() ?? 0
        varianceMeanChange = varianceChanges.reduce(0, +) / n
    }
}
