import BNConvCore
import Foundation

/// Normalizations: `BatchNormalization InstanceNormalization LayerNormalization
/// GroupNormalization MeanVarianceNormalization LRN`.
///
/// Means and variances are computed in Double (variance as the mean of squared deviations, the
/// population variance); outputs are rounded to the input's dtype.
enum NormalizationOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "BatchNormalization": batchNormalization,
        "InstanceNormalization": instanceNormalization,
        "LayerNormalization": layerNormalization,
        "GroupNormalization": groupNormalization,
        "MeanVarianceNormalization": meanVarianceNormalization,
        "LRN": localResponseNormalization,
    ]

    /// ONNX's default `epsilon` (the float32 nearest 1e-5, as attributes are float32).
    static let defaultEpsilon = Double(Float(1e-5))

    // MARK: - BatchNormalization

    /// BatchNormalization: `Y = (X - mean) / √(var + epsilon) · scale + B` per channel (axis 1).
    ///
    /// Inference uses the given mean and variance. With `training_mode=1` (opset 14+) it uses the
    /// batch's statistics and also writes the running mean and variance
    /// (`input · momentum + batch · (1 - momentum)`). Before opset 14 the op computes inference
    /// (as runtimes do for exported models); its training outputs are not written, so a node that
    /// asks for them is refused by the engine. `spatial=0` (before opset 9) takes per-element
    /// statistics of shape `C x D1 x ...`.
    static let batchNormalization: KernelBuilder = { a in
        let epsilon = try a.float("epsilon", defaultEpsilon)
        let momentum = try a.float("momentum", Double(Float(0.9)))
        let training = try a.opset >= 14 && a.int("training_mode", 0) != 0
        let spatial = a.opset < 9 ? try a.int("spatial", 1) != 0 : true
        return ClosureKernel { values in
            let inputs = OpInputs(a.op, values)
            let x = try inputs.required(0)
            let parameters = try (1...4).map { try inputs.required($0) }
            guard x.rank >= 2 else { throw a.invalid("input X of shape \(x.shape) (it needs N x C x ...)") }
            try requireFloatingPoint(x, "X", a)
            let channels = x.shape[1]
            let perChannel = x.shape[2...].reduce(1, *)
            // Parameters per channel, or per (channel, position) with spatial=0.
            let parameterCount = spatial ? channels : channels * perChannel
            let names = ["scale", "B", "input_mean", "input_var"]
            for (name, p) in zip(names, parameters) where p.count != parameterCount {
                throw a.invalid("input \(name) of shape \(p.shape) (expected \(parameterCount) values for X of shape \(x.shape))")
            }
            let scale = parameters[0].storage.doubles, bias = parameters[1].storage.doubles
            var mean = parameters[2].storage.doubles, variance = parameters[3].storage.doubles
            var outputs: [HostTensor] = []
            if training {
                let (batchMean, batchVar): ([Double], [Double])
                switch x.storage {
                case .float(let v): (batchMean, batchVar) = channelStatistics(v, batch: x.shape[0], channels: channels, perChannel: perChannel)
                default: (batchMean, batchVar) = channelStatistics(x.storage.doubles, batch: x.shape[0], channels: channels, perChannel: perChannel)
                }
                let runningMean = zip(mean, batchMean).map { $0 * momentum + $1 * (1 - momentum) }
                let runningVar = zip(variance, batchVar).map { $0 * momentum + $1 * (1 - momentum) }
                mean = batchMean
                variance = batchVar
                outputs = [floating(runningMean, like: parameters[2], shape: parameters[2].shape),
                           floating(runningVar, like: parameters[3], shape: parameters[3].shape)]
            }
            // y = x · factor + shift, per parameter index.
            let factor = (0..<parameterCount).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
            let shift = (0..<parameterCount).map { bias[$0] - mean[$0] * factor[$0] }
            let y: HostStorage
            switch x.storage {
            case .float(let v): y = .float(affine(v, channels: channels, perChannel: perChannel, spatial: spatial, factor, shift))
            default: y = .double(affine(x.storage.doubles, channels: channels, perChannel: perChannel, spatial: spatial, factor, shift))
            }
            return [HostTensor(dtype: x.dtype, shape: x.shape, storage: y)] + outputs
        }
    }

    /// The mean and population variance of each channel of `x` (batch x channels x perChannel).
    static func channelStatistics<T: BinaryFloatingPoint>(_ x: [T], batch: Int, channels: Int, perChannel: Int)
        -> (mean: [Double], variance: [Double]) {
        let n = Double(batch * perChannel)
        var means = [Double](repeating: 0, count: channels), variances = means
        for c in 0..<channels {
            var sum = 0.0
            for b in 0..<batch {
                let base = (b * channels + c) * perChannel
                for i in 0..<perChannel { sum += Double(x[base + i]) }
            }
            let mean = sum / n
            var squares = 0.0
            for b in 0..<batch {
                let base = (b * channels + c) * perChannel
                for i in 0..<perChannel { let d = Double(x[base + i]) - mean; squares += d * d }
            }
            means[c] = mean
            variances[c] = squares / n
        }
        return (means, variances)
    }

    /// `x · factor + shift` per channel (`spatial`) or per (channel, position), in Double.
    static func affine<T: BinaryFloatingPoint>(_ x: [T], channels: Int, perChannel: Int, spatial: Bool,
                                                _ factor: [Double], _ shift: [Double]) -> [T] {
        var y = [T](repeating: 0, count: x.count)
        guard perChannel > 0, channels > 0 else { return y }
        for g in 0..<(x.count / perChannel) {
            let c = g % channels
            let base = g * perChannel
            if spatial {
                let f = factor[c], s = shift[c]
                for i in 0..<perChannel { y[base + i] = T(Double(x[base + i]) * f + s) }
            } else {
                let p = c * perChannel
                for i in 0..<perChannel { y[base + i] = T(Double(x[base + i]) * factor[p + i] + shift[p + i]) }
            }
        }
        return y
    }

    // MARK: - InstanceNormalization

    /// InstanceNormalization: each (sample, channel) of `X` (N x C x ...) normalized over its
    /// spatial elements, then `· scale[c] + B[c]`; attribute `epsilon` (default 1e-5).
    static let instanceNormalization: KernelBuilder = { a in
        let epsilon = try a.float("epsilon", defaultEpsilon)
        return ClosureKernel { values in
            let inputs = OpInputs(a.op, values)
            let x = try inputs.required(0), scale = try inputs.required(1), bias = try inputs.required(2)
            guard x.rank >= 2 else { throw a.invalid("input X of shape \(x.shape) (it needs N x C x ...)") }
            try requireFloatingPoint(x, "X", a)
            let channels = x.shape[1]
            guard scale.count == channels, bias.count == channels else {
                throw a.invalid("scale of shape \(scale.shape) and B of shape \(bias.shape) for \(channels) channels")
            }
            let s = scale.storage.doubles, b = bias.storage.doubles
            let lanes = AxisLanes(shape: [x.shape[0] * channels, x.shape[2...].reduce(1, *)], axis: 1)
            let y = standardized(x.storage.doubles, lanes, epsilon: epsilon) { lane in (s[lane % channels], b[lane % channels]) }
            return [floating(y.values, like: x, shape: x.shape)]
        }
    }

    // MARK: - LayerNormalization

    /// LayerNormalization (opset 17): `X` normalized over the axes from `axis` (default -1) on,
    /// then `· Scale + B` (both broadcast to `X`); `epsilon` default 1e-5. Optional outputs: the
    /// Mean and the InvStdDev (`1/√(var + epsilon)`), of shape `X.shape[..<axis]` then ones, in
    /// the `stash_type` dtype (default 1, float32).
    static let layerNormalization: KernelBuilder = { a in
        let axis = try a.int("axis", -1)
        let epsilon = try a.float("epsilon", defaultEpsilon)
        let stashType = try a.int("stash_type", 1)
        let statisticsType: DType
        switch stashType {
        case 1: statisticsType = .float32
        case 10: statisticsType = .float16
        case 11: statisticsType = .float64
        case 16: statisticsType = .bfloat16
        default: throw a.unsupported("with stash_type=\(stashType)")
        }
        return ClosureKernel { values in
            let inputs = OpInputs(a.op, values)
            let x = try inputs.required(0), scale = try inputs.required(1), bias = inputs.optional(2)
            try requireFloatingPoint(x, "X", a)
            guard x.rank > 0 else { throw a.invalid("input X is a scalar (it needs an axis)") }
            let resolved = try Shapes.axis(axis, rank: x.rank, op: a.op)
            let lanes = AxisLanes(shape: x.shape, axes: resolved..<x.rank)
            let s = try broadcastParameter(scale, "Scale", to: x.shape, a)
            let b = try bias.map { try broadcastParameter($0, "B", to: x.shape, a) }
            let result = standardized(x.storage.doubles, AxisLanes(shape: [lanes.outer, lanes.extent], axis: 1),
                                      epsilon: epsilon, affine: nil)
            var y = result.values
            if !y.isEmpty {
                let sCount = s.count
                if let b {
                    let bCount = b.count
                    for i in y.indices { y[i] = y[i] * s[i % sCount] + b[i % bCount] }
                } else {
                    for i in y.indices { y[i] *= s[i % sCount] }
                }
            }
            let statisticsShape = Array(x.shape[..<resolved]) + Array(repeating: 1, count: x.rank - resolved)
            return [floating(y, like: x, shape: x.shape),
                    HostTensor(dtype: statisticsType, shape: statisticsShape, storage: floatingStorage(result.means, statisticsType)),
                    HostTensor(dtype: statisticsType, shape: statisticsShape, storage: floatingStorage(result.inverseDeviations, statisticsType))]
        }
    }

    /// `parameter` broadcast to `shape` (unidirectionally: `shape` does not grow), as Doubles
    /// read at `index % count`: its own values when its shape is a suffix of `shape` (one value
    /// per trailing position), else expanded to `shape`.
    static func broadcastParameter(_ parameter: HostTensor, _ name: String, to shape: [Int], _ a: OpAttributes) throws -> [Double] {
        guard parameter.rank <= shape.count, (try? Shapes.broadcast([shape, parameter.shape], op: a.op)) == shape else {
            throw a.invalid("input \(name) of shape \(parameter.shape) does not broadcast to X of shape \(shape)")
        }
        let v = parameter.storage.doubles
        if Array(shape.suffix(parameter.rank)) == parameter.shape { return v }
        return Shapes.broadcastIndices(from: parameter.shape, to: shape).map { v[$0] }
    }

    // MARK: - GroupNormalization

    /// GroupNormalization (opsets 18, 21): the channels of `X` (N x C x ...) split into
    /// `num_groups` groups, each (sample, group) normalized over its channels' elements, then
    /// `· scale + bias`, per group (opset 18) or per channel (opset 21); `epsilon` default 1e-5.
    static let groupNormalization: KernelBuilder = { a in
        let epsilon = try a.float("epsilon", defaultEpsilon)
        guard let groups = try a.int("num_groups") else { throw a.invalid("attribute 'num_groups' is missing") }
        let perChannelAffine = a.opset >= 21
        return ClosureKernel { values in
            let inputs = OpInputs(a.op, values)
            let x = try inputs.required(0), scale = try inputs.required(1), bias = try inputs.required(2)
            guard x.rank >= 2 else { throw a.invalid("input X of shape \(x.shape) (it needs N x C x ...)") }
            try requireFloatingPoint(x, "X", a)
            let channels = x.shape[1]
            guard groups > 0, channels % groups == 0 else {
                throw a.invalid("num_groups=\(groups) does not divide the \(channels) channels")
            }
            let affineCount = perChannelAffine ? channels : groups
            guard scale.count == affineCount, bias.count == affineCount else {
                throw a.invalid("scale of shape \(scale.shape) and bias of shape \(bias.shape) (expected \(affineCount) values)")
            }
            let spatial = x.shape[2...].reduce(1, *)
            let channelsPerGroup = channels / groups
            let lanes = AxisLanes(shape: [x.shape[0] * groups, channelsPerGroup * spatial], axis: 1)
            var result = standardized(x.storage.doubles, lanes, epsilon: epsilon).values
            let s = scale.storage.doubles, b = bias.storage.doubles
            for i in result.indices {
                let channel = (i / spatial) % channels
                let k = perChannelAffine ? channel : channel / channelsPerGroup
                result[i] = result[i] * s[k] + b[k]
            }
            return [floating(result, like: x, shape: x.shape)]
        }
    }

    // MARK: - MeanVarianceNormalization

    /// MeanVarianceNormalization: `(X - mean) / (√var + 1e-9)`, mean and variance over `axes`
    /// (default [0, 2, 3]), as ONNX's function body computes it.
    static let meanVarianceNormalization: KernelBuilder = { a in
        let axes = try a.ints("axes") ?? [0, 2, 3]
        return ClosureKernel { values in
            let x = try OpInputs(a.op, values).required(0)
            try requireFloatingPoint(x, "X", a)
            let reduced = try ReductionOps.reducedAxes(axes, rank: x.rank, noopWhenEmpty: false, a)
            let layout = ReductionLayout(shape: x.shape, reduced: reduced, keepDims: true)
            let xs = x.storage.doubles
            var y = [Double](repeating: 0, count: xs.count)
            let n = Double(layout.laneOffsets.count)
            for start in layout.laneStarts {
                var sum = 0.0
                for k in layout.laneOffsets { sum += xs[start + k] }
                let mean = sum / n
                var squares = 0.0
                for k in layout.laneOffsets { let d = xs[start + k] - mean; squares += d * d }
                let deviation = (squares / n).squareRoot() + 1e-9
                for k in layout.laneOffsets { y[start + k] = (xs[start + k] - mean) / deviation }
            }
            return [floating(y, like: x, shape: x.shape)]
        }
    }

    // MARK: - LRN

    /// LRN: `X / (bias + alpha / size · Σ X²)^beta`, the sum over the `size` channels around each
    /// one (from `c - ⌊(size-1)/2⌋` to `c + ⌈(size-1)/2⌉`, clipped); `alpha` 1e-4, `beta` 0.75,
    /// `bias` 1 by default, `size` required.
    static let localResponseNormalization: KernelBuilder = { a in
        let alpha = try a.float("alpha", Double(Float(1e-4)))
        let beta = try a.float("beta", 0.75)
        let bias = try a.float("bias", 1)
        guard let size = try a.int("size") else { throw a.invalid("attribute 'size' is missing") }
        guard size > 0 else { throw a.invalid("attribute 'size' is \(size) (it must be positive)") }
        return ClosureKernel { values in
            let x = try OpInputs(a.op, values).required(0)
            guard x.rank >= 2 else { throw a.invalid("input X of shape \(x.shape) (it needs N x C x ...)") }
            try requireFloatingPoint(x, "X", a)
            let lanes = AxisLanes(shape: x.shape, axis: 1)
            let xs = x.storage.doubles
            var y = [Double](repeating: 0, count: xs.count)
            let before = (size - 1) / 2, after = size - 1 - before
            for lane in 0..<lanes.count {
                let start = lanes.start(of: lane)
                for c in 0..<lanes.extent {
                    var squares = 0.0
                    for k in max(0, c - before)...min(lanes.extent - 1, c + after) {
                        let v = xs[start + k * lanes.inner]
                        squares += v * v
                    }
                    let i = start + c * lanes.inner
                    y[i] = xs[i] / Foundation.pow(bias + alpha / Double(size) * squares, beta)
                }
            }
            return [floating(y, like: x, shape: x.shape)]
        }
    }

    // MARK: - Shared

    /// The standardization of every lane of `lanes` (`(x - mean) / √(var + epsilon)`), then
    /// `· factor + shift` from `affine(lane)` when given; with each lane's mean and
    /// `1/√(var + epsilon)`.
    static func standardized(_ x: [Double], _ lanes: AxisLanes, epsilon: Double,
                             affine: ((Int) -> (factor: Double, shift: Double))? = nil)
        -> (values: [Double], means: [Double], inverseDeviations: [Double]) {
        var y = [Double](repeating: 0, count: x.count)
        var means = [Double](repeating: 0, count: lanes.count), inverses = means
        let n = Double(lanes.extent)
        for lane in 0..<lanes.count {
            let start = lanes.start(of: lane)
            var sum = 0.0
            for k in 0..<lanes.extent { sum += x[start + k * lanes.inner] }
            let mean = sum / n
            var squares = 0.0
            for k in 0..<lanes.extent { let d = x[start + k * lanes.inner] - mean; squares += d * d }
            let inverse = 1 / (squares / n + epsilon).squareRoot()
            let (factor, shift) = affine?(lane) ?? (1, 0)
            for k in 0..<lanes.extent {
                let i = start + k * lanes.inner
                y[i] = (x[i] - mean) * inverse * factor + shift
            }
            means[lane] = mean
            inverses[lane] = inverse
        }
        return (y, means, inverses)
    }

    /// An error unless `t` holds floating-point numbers.
    static func requireFloatingPoint(_ t: HostTensor, _ name: String, _ a: OpAttributes) throws {
        switch t.storage {
        case .float, .double: return
        default: throw a.invalid("input \(name) of type \(t.dtype) (a floating-point type is needed)")
        }
    }

    /// `values` as a tensor of `like`'s dtype and `shape`.
    static func floating(_ values: [Double], like: HostTensor, shape: [Int]) -> HostTensor {
        let dtype = HostStorage.kind(of: like.dtype) == .float || like.dtype == .float64 ? like.dtype : .float32
        return HostTensor(dtype: dtype, shape: shape, storage: floatingStorage(values, dtype))
    }

    /// `values` in the storage kind of the floating-point `dtype`.
    static func floatingStorage(_ values: [Double], _ dtype: DType) -> HostStorage {
        dtype == .float64 ? .double(values) : .float(values.map { Float($0) })
    }
}
