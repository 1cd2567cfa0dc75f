/// Per-channel mean and biased variance over every axis but the channel axis, as `tf.nn.moments`
/// computes them (design.md section 3), accumulated in Double.
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
    public init<T: BinaryFloatingPoint>(of x: UnsafeBufferPointer<T>, geometry g: ChannelGeometry) {
        precondition(x.count == g.count, "moments of \(x.count) values over geometry \(g)")
        var sum = [Double](repeating: 0, count: g.channels)
        for o in 0..<g.outer {
            for c in 0..<g.channels {
                let base = (o * g.channels + c) * g.inner
                var s = 0.0
                for i in 0..<g.inner { s += Double(x[base + i]) }
                sum[c] += s
            }
        }
        let n = Double(max(g.countPerChannel, 1))
        let mean = sum.map { $0 / n }
        var squares = [Double](repeating: 0, count: g.channels)
        for o in 0..<g.outer {
            for c in 0..<g.channels {
                let base = (o * g.channels + c) * g.inner
                let m = mean[c]
                var s = 0.0
                for i in 0..<g.inner { let d = Double(x[base + i]) - m; s += d * d }
                squares[c] += s
            }
        }
        self.init(mean: mean, variance: squares.map { $0 / n }, count: g.countPerChannel)
    }

    /// The moments of `x` (C order, `shape`) over every axis but `axis`.
    public init<T: BinaryFloatingPoint>(of x: [T], shape: [Int], axis: Int) throws {
        let g = try ChannelGeometry(shape: shape, axis: axis)
        guard g.count == x.count else { throw EngineError.shapeMismatch("moments", expected: shape, got: [x.count]) }
        self = x.withUnsafeBufferPointer { BatchNormMoments(of: $0, geometry: g) }
    }
}
