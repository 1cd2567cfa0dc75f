import BNConvCore
import BNConvModel
import BNConvInterop

/// Per-channel mean and biased variance over every axis but the channel axis, as `tf.nn.moments`
/// computes them (docs/math.md, BatchNorm), accumulated in Double.
public struct BatchNormMoments: Equatable, Sendable {
    /// Mean per channel.
    public var mean: [Double]
    /// Biased variance per channel: `E[(x - mean)^2]`.
    public var variance: [Double]
    /// Elements per channel (`N` of the mean).
    public var count: Int

    /// Creates moments from their parts.
    public init(mean: [Double], variance: [Double], count: Int) {
        self.mean = mean
        self.variance = variance
        self.count = count
    }

    /// The moments of `x` laid out as `geometry` says (two passes: mean, then squared deviations).
    /// Large inputs are split by rows across the cores; the per-part sums are added in part order,
    /// so the result does not depend on scheduling (it does on the number of parts, which follows
    /// `threads`: the cores to split over, every core when `nil`).
    public init<T: BinaryFloatingPoint>(of x: UnsafeBufferPointer<T>, geometry g: ChannelGeometry, threads: Int? = nil) {
        self.init(of: x, geometry: g, parallel: Parallel(threads: threads))
    }

    /// The moments of `x` laid out as `geometry` says, split over `parallel`'s cores.
    init<T: BinaryFloatingPoint>(of x: UnsafeBufferPointer<T>, geometry g: ChannelGeometry, parallel: Parallel) {
        precondition(x.count == g.count, "moments of \(x.count) values over geometry \(g)")
        let parts = g.count >= 1 << 15 ? max(1, min(g.outer, parallel.workers * 4)) : 1
        let n = Double(max(g.countPerChannel, 1))
        let mean = Self.channelSums(x, g, parts: parts, center: nil, parallel: parallel).map { $0 / n }
        let squares = Self.channelSums(x, g, parts: parts, center: mean, parallel: parallel)
        self.init(mean: mean, variance: squares.map { $0 / n }, count: g.countPerChannel)
    }

    /// Per-channel sums of `x` (`center == nil`) or of `(x - center)^2`, in Double, over `parts`
    /// row ranges run concurrently on `parallel`'s cores and added in order.
    private static func channelSums<T: BinaryFloatingPoint>(_ x: UnsafeBufferPointer<T>, _ g: ChannelGeometry,
                                                            parts: Int, center: [Double]?, parallel: Parallel) -> [Double] {
        let channels = g.channels
        var partial = [Double](repeating: 0, count: parts * channels)
        partial.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            parallel.forEach(parts) { part in
                let acc = base + part * channels
                let lo = g.outer * part / parts, hi = g.outer * (part + 1) / parts
                for o in lo..<hi {
                    if g.inner == 1 {
                        let row = o * channels
                        if let center {
                            for c in 0..<channels { let d = Double(x[row + c]) - center[c]; acc[c] += d * d }
                        } else {
                            for c in 0..<channels { acc[c] += Double(x[row + c]) }
                        }
                    } else {
                        for c in 0..<channels {
                            let start = (o * channels + c) * g.inner
                            var s = 0.0
                            if let center {
                                let m = center[c]
                                for i in 0..<g.inner { let d = Double(x[start + i]) - m; s += d * d }
                            } else {
                                for i in 0..<g.inner { s += Double(x[start + i]) }
                            }
                            acc[c] += s
                        }
                    }
                }
            }
        }
        var sums = [Double](repeating: 0, count: channels)
        for part in 0..<parts { for c in 0..<channels { sums[c] += partial[part * channels + c] } }
        return sums
    }

    /// The moments of `x` (C order, `shape`) over every axis but `axis`, split over `threads` cores
    /// (every core when `nil`).
    public init<T: BinaryFloatingPoint>(of x: [T], shape: [Int], axis: Int, threads: Int? = nil) throws {
        let g = try ChannelGeometry(shape: shape, axis: axis)
        guard g.count == x.count else { throw EngineError.shapeMismatch("moments", expected: shape, got: [x.count]) }
        self = x.withUnsafeBufferPointer { BatchNormMoments(of: $0, geometry: g, threads: threads) }
    }
}
