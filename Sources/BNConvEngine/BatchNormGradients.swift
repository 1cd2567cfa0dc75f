import BNConvCore
import BNConvModel
import BNConvInterop

/// The backward pass of a training-mode BatchNorm (batch statistics), in Double (docs/math.md, BatchNorm):
/// with `xhat = (x - mean) / sqrt(var + eps)` and `N` elements per channel,
/// `dbeta = sum(dy)`, `dgamma = sum(dy * xhat)`,
/// `dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat))`.
public struct BatchNormGradients: Equatable, Sendable {
    /// Gradient with respect to the input, same layout as the input.
    public var dx: [Double]
    /// Gradient with respect to gamma, per channel.
    public var dgamma: [Double]
    /// Gradient with respect to beta, per channel.
    public var dbeta: [Double]

    /// Gradients of `sum(y * dy)` for `y = BN_train(x)` laid out as `geometry` says;
    /// `gamma == nil` means `scale=False`.
    public init<T: BinaryFloatingPoint>(x: [T], dy: [T], geometry g: ChannelGeometry, gamma: [Double]?,
                                        epsilon: Double) {
        precondition(x.count == g.count && dy.count == g.count, "BatchNorm gradients: sizes differ from \(g)")
        let moments = x.withUnsafeBufferPointer { BatchNormMoments(of: $0, geometry: g) }
        let n = Double(max(g.countPerChannel, 1))
        let invStd = moments.variance.map { 1 / ($0 + epsilon).squareRoot() }
        var sumDy = [Double](repeating: 0, count: g.channels)
        var sumDyXhat = sumDy
        for o in 0..<g.outer {
            for c in 0..<g.channels {
                let base = (o * g.channels + c) * g.inner
                for i in 0..<g.inner {
                    let d = Double(dy[base + i])
                    sumDy[c] += d
                    sumDyXhat[c] += d * (Double(x[base + i]) - moments.mean[c]) * invStd[c]
                }
            }
        }
        var dx = [Double](repeating: 0, count: g.count)
        for o in 0..<g.outer {
            for c in 0..<g.channels {
                let base = (o * g.channels + c) * g.inner
                let k = (gamma?[c] ?? 1) * invStd[c]
                let meanDy = sumDy[c] / n, meanDyXhat = sumDyXhat[c] / n
                for i in 0..<g.inner {
                    let xhat = (Double(x[base + i]) - moments.mean[c]) * invStd[c]
                    dx[base + i] = k * (Double(dy[base + i]) - meanDy - xhat * meanDyXhat)
                }
            }
        }
        self.dx = dx
        self.dgamma = sumDyXhat
        self.dbeta = sumDy
    }
}
