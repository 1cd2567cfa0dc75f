import BNConvCore
import BNConvModel
import BNConvInterop

/// A BatchNorm with its parameters and moving statistics, written once for any channel axis:
/// inference, training (with the moving-average update) and the backward pass.
///
/// Statistics are kept in Double; `callAsFunction` normalizes in the input's precision with
/// coefficients computed in Double (``BatchNormCoefficients``).
public struct BatchNormLayer: Equatable, Sendable {
    /// The channel axis (batch included; negative counts from the end).
    public var axis: Int
    /// Added to the variance before the square root.
    public var epsilon: Double
    /// Scale per channel; `nil` for `scale=False`.
    public var gamma: [Double]?
    /// Offset per channel; `nil` for `center=False`.
    public var beta: [Double]?
    /// Moving (running) mean per channel.
    public var movingMean: [Double]
    /// Moving (running) variance per channel.
    public var movingVariance: [Double]
    /// How training steps update the moving statistics.
    public var movingAverage: BatchNormMovingAverage

    /// Creates a layer from its parameters.
    public init(axis: Int, epsilon: Double, gamma: [Double]?, beta: [Double]?, movingMean: [Double],
                movingVariance: [Double], movingAverage: BatchNormMovingAverage = .keras3(momentum: 0.99)) {
        self.axis = axis
        self.epsilon = epsilon
        self.gamma = gamma
        self.beta = beta
        self.movingMean = movingMean
        self.movingVariance = movingVariance
        self.movingAverage = movingAverage
    }

    /// The layer a model's BN node describes, its weights read by role (gamma, beta, moving mean and
    /// variance); `center`/`scale` off drop beta/gamma. The moving-average convention is Keras 3's
    /// unless `movingAverage` says otherwise.
    public init(node: Node, attributes: BatchNorm, movingAverage: BatchNormMovingAverage? = nil) throws {
        func vector(_ role: WeightRole) throws -> [Double] {
            guard let w = node.weight(role) else { throw EngineError.missingWeight(node: node.name, role: role) }
            return w.tensor.doubles()
        }
        let mean = try vector(.movingMean), variance = try vector(.movingVariance)
        let gamma = attributes.scale ? try vector(.gamma) : nil
        let beta = attributes.center ? try vector(.beta) : nil
        for (role, v) in [(WeightRole.movingVariance, variance), (.gamma, gamma ?? mean), (.beta, beta ?? mean)]
        where v.count != mean.count {
            throw EngineError.weightShape(node: node.name, role: role, expected: [mean.count], got: [v.count])
        }
        self.init(axis: attributes.axis, epsilon: attributes.epsilon, gamma: gamma, beta: beta,
                  movingMean: mean, movingVariance: variance,
                  movingAverage: movingAverage ?? .keras3(momentum: attributes.momentum))
    }

    /// The inference-mode map (moving statistics).
    public var inferenceCoefficients: BatchNormCoefficients {
        BatchNormCoefficients(mean: movingMean, variance: movingVariance, gamma: gamma, beta: beta, epsilon: epsilon)
    }

    /// The training-mode map for a batch with `moments` (biased variance).
    public func trainingCoefficients(_ moments: BatchNormMoments) -> BatchNormCoefficients {
        BatchNormCoefficients(mean: moments.mean, variance: moments.variance, gamma: gamma, beta: beta, epsilon: epsilon)
    }

    /// Normalizes `x` (C order, `shape`) in `mode`; a training step that updates moves the moving
    /// statistics as ``movingAverage`` says.
    public mutating func callAsFunction<T: BinaryFloatingPoint>(_ x: [T], shape: [Int], mode: BatchNormMode) throws -> [T] {
        let g = try geometry(shape: shape, count: x.count)
        switch mode {
        case .inference:
            return inferenceCoefficients.apply(x, geometry: g)
        case .training(let updates):
            let moments = x.withUnsafeBufferPointer { BatchNormMoments(of: $0, geometry: g) }
            let y = trainingCoefficients(moments).apply(x, geometry: g)
            if updates { update(with: moments) }
            return y
        }
    }

    /// Moves the moving statistics toward a batch's `moments`.
    public mutating func update(with moments: BatchNormMoments) {
        for c in movingMean.indices {
            let next = movingAverage.update(moving: (movingMean[c], movingVariance[c]), batchMean: moments.mean[c],
                                            batchVariance: moments.variance[c], count: moments.count)
            movingMean[c] = next.mean
            movingVariance[c] = next.variance
        }
    }

    /// The training-mode backward pass: gradients of `sum(y * dy)` with respect to x, gamma, beta.
    public func gradients<T: BinaryFloatingPoint>(x: [T], dy: [T], shape: [Int]) throws -> BatchNormGradients {
        let g = try geometry(shape: shape, count: x.count)
        guard dy.count == x.count else { throw EngineError.shapeMismatch("BatchNorm dy", expected: shape, got: [dy.count]) }
        return BatchNormGradients(x: x, dy: dy, geometry: g, gamma: gamma, epsilon: epsilon)
    }

    private func geometry(shape: [Int], count: Int) throws -> ChannelGeometry {
        let g = try ChannelGeometry(shape: shape, axis: axis)
        guard g.count == count else { throw EngineError.shapeMismatch("BatchNorm input", expected: shape, got: [count]) }
        guard g.channels == movingMean.count else {
            throw EngineError.shapeMismatch("BatchNorm channels", expected: [movingMean.count], got: [g.channels])
        }
        return g
    }
}
