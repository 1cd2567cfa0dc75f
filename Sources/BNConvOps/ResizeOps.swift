import BNConvCore
import Foundation

/// `Resize` (opsets 10, 11, 13, 18, 19) and `Upsample` (opsets 7, 9).
///
/// Resizing is separable: each resized axis is resampled on its own (``ResamplingPlan``), nearest
/// as an index gather, linear and cubic as weighted sums in Double.
enum ResizeOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "Resize": resize,
        "Upsample": upsample,
    ]

    /// Resize. Opset 10: inputs X, scales; modes nearest and linear on asymmetric coordinates.
    /// Opset 11+: inputs X, roi, scales, sizes (one of scales and sizes), attributes `mode`
    /// (nearest, linear, cubic), `coordinate_transformation_mode` (default half_pixel),
    /// `nearest_mode` (default round_prefer_floor), `cubic_coeff_a` (-0.75), `exclude_outside`,
    /// `extrapolation_value`; opset 18+ adds `antialias`, `axes`, `keep_aspect_ratio_policy`.
    static let resize: KernelBuilder = { a in
        var settings = try ResamplingSettings(a, interpolationNames: a.opset < 11 ? ["nearest", "linear"] : ["nearest", "linear", "cubic"])
        if a.opset < 11 {
            settings.coordinates = .asymmetric
            settings.rounding = .simple
        }
        let fixed = settings
        return ClosureKernel { values in
            let inputs = OpInputs(a.op, values)
            let x = try inputs.required(0)
            if a.opset < 11 {
                guard let scales = inputs.optional(1) else { throw a.invalid("input scales is missing") }
                return [try resampled(x, scales: scales.storage.doubles, sizes: nil, roi: nil, fixed, a)]
            }
            // An empty scales or sizes tensor stands for an absent one.
            let scales = inputs.optional(2).flatMap { $0.count == 0 ? nil : $0.storage.doubles }
            let sizes = inputs.optional(3).flatMap { $0.count == 0 ? nil : $0.storage.integers.map { Int(truncatingIfNeeded: $0) } }
            let roi = inputs.optional(1).flatMap { $0.count == 0 ? nil : $0.storage.doubles }
            return [try resampled(x, scales: scales, sizes: sizes, roi: roi, fixed, a)]
        }
    }

    /// Upsample: opset 7 reads `scales` from an attribute, opset 9 from input 1; modes nearest
    /// (the source index rounded down) and linear, on asymmetric coordinates (`x / scale`).
    static let upsample: KernelBuilder = { a in
        guard a.opset >= 7 else { throw a.unsupported("of opset \(a.opset) (width_scale/height_scale)") }
        var settings = try ResamplingSettings(a, interpolationNames: ["nearest", "linear", "bilinear"])
        settings.coordinates = .asymmetric
        settings.rounding = .simple
        let fixed = settings
        let attributeScales = a.opset < 9 ? try a.floats("scales") : nil
        if a.opset < 9 && attributeScales == nil { throw a.invalid("attribute 'scales' is missing") }
        return ClosureKernel { values in
            let inputs = OpInputs(a.op, values)
            let x = try inputs.required(0)
            guard let scales = attributeScales ?? inputs.optional(1)?.storage.doubles else {
                throw a.invalid("input scales is missing")
            }
            return [try resampled(x, scales: scales, sizes: nil, roi: nil, fixed, a)]
        }
    }

    /// `x` resized by `scales` or to `sizes` (one per resized axis), with `roi` for
    /// tf_crop_and_resize.
    static func resampled(_ x: HostTensor, scales: [Double]?, sizes: [Int]?, roi: [Double]?,
                          _ settings: ResamplingSettings, _ a: OpAttributes) throws -> HostTensor {
        if case .bool = x.storage { throw a.invalid("input X of type bool (a number is needed)") }
        let rank = x.rank
        // The resized axes, in the order given.
        var axes = Array(0..<rank)
        if let given = settings.axes {
            axes = []
            for axis in given {
                let resolved = try Shapes.axis(axis, rank: rank, op: a.op)
                guard rank > 0 else { throw a.invalid("axes \(given) given for a scalar input") }
                guard !axes.contains(resolved) else { throw a.invalid("axes \(given) name axis \(resolved) twice") }
                axes.append(resolved)
            }
        }
        // Per resized axis: the scale, the fractional resized length, the output length.
        var scale = [Double](repeating: 1, count: rank)
        var resizedLength = x.shape.map(Double.init)
        var outShape = x.shape
        switch (scales, sizes) {
        case (let scales?, nil):
            guard scales.count == axes.count else {
                throw a.invalid("scales has \(scales.count) values for \(axes.count) axes")
            }
            for (k, axis) in axes.enumerated() {
                guard scales[k] > 0, scales[k].isFinite else { throw a.invalid("scale \(scales[k]) (scales must be positive)") }
                scale[axis] = scales[k]
                resizedLength[axis] = scales[k] * Double(x.shape[axis])
                guard resizedLength[axis] < 1e15 else { throw a.invalid("scale \(scales[k]) is too large") }
                outShape[axis] = Int(resizedLength[axis].rounded(.down))
            }
        case (nil, let sizes?):
            guard sizes.count == axes.count else {
                throw a.invalid("sizes has \(sizes.count) values for \(axes.count) axes")
            }
            for (k, axis) in axes.enumerated() {
                guard sizes[k] >= 0 else { throw a.invalid("sizes \(sizes) hold a negative size") }
                guard x.shape[axis] > 0 || sizes[k] == 0 else {
                    throw a.invalid("axis \(axis) of length 0 cannot be resized to \(sizes[k])")
                }
                scale[axis] = x.shape[axis] == 0 ? 1 : Double(sizes[k]) / Double(x.shape[axis])
                resizedLength[axis] = Double(sizes[k])
                outShape[axis] = sizes[k]
            }
            if settings.aspectPolicy != .stretch {
                let ratios = axes.map { scale[$0] }
                let common = (settings.aspectPolicy == .notLarger ? ratios.min() : ratios.max()) ?? 1
                for axis in axes {
                    scale[axis] = common
                    resizedLength[axis] = common * Double(x.shape[axis])
                    outShape[axis] = Int((resizedLength[axis] + 0.5).rounded(.down))
                }
            }
        case (nil, nil):
            throw a.invalid("neither scales nor sizes is given")
        case (_?, _?):
            throw a.invalid("both scales and sizes are given (only one may be)")
        }
        // The region of interest per resized axis (tf_crop_and_resize only).
        var regions = Array(repeating: (0.0, 1.0), count: rank)
        if settings.coordinates == .tfCropAndResize {
            guard let roi, roi.count == 2 * axes.count else {
                throw a.invalid("roi of \(roi?.count ?? 0) values (tf_crop_and_resize needs \(2 * axes.count))")
            }
            for (k, axis) in axes.enumerated() { regions[axis] = (roi[k], roi[axes.count + k]) }
        }
        _ = try Shapes.count(outShape, op: a.op)

        var plans: [(axis: Int, plan: ResamplingPlan)] = []
        for axis in axes {
            let identity = outShape[axis] == x.shape[axis] && abs(scale[axis] - 1) < 1e-9
                && (settings.coordinates != .tfCropAndResize || (regions[axis].0 == 0 && regions[axis].1 == 1))
            if identity { continue }
            let taps = ResamplingPlan.tapCount(settings, scale: scale[axis])
            _ = try Shapes.count([outShape[axis], taps], op: a.op)
            plans.append((axis, ResamplingPlan(settings, inputLength: x.shape[axis], outputLength: outShape[axis],
                                               scale: scale[axis], resizedLength: resizedLength[axis], region: regions[axis])))
        }
        if settings.interpolation == .nearest {
            return gathered(x, plans, outShape: outShape, fill: settings.extrapolationValue)
        }
        return interpolated(x, plans, outShape: outShape)
    }

    /// Nearest resampling: every output element is one input element (or the extrapolation value).
    /// Walks the output row by row (a row: the last axis): each row's source row is found from the
    /// other axes' source indices, its elements are gathered through the last axis's indices, and a
    /// row whose source row is the previous row's (upsampling) is copied from the row just written.
    static func gathered(_ x: HostTensor, _ plans: [(axis: Int, plan: ResamplingPlan)], outShape: [Int], fill: Double) -> HostTensor {
        if plans.isEmpty { return x }
        // Per axis, the source index of each output position (-1: extrapolated).
        var sources = outShape.indices.map { Array(0..<outShape[$0]) }
        for (axis, plan) in plans {
            sources[axis] = (0..<plan.outputLength).map { plan.extrapolated[$0] ? -1 : plan.indices[$0 * plan.taps] }
        }
        let strides = Shapes.strides(x.shape)
        let rank = outShape.count
        let count = outShape.reduce(1, *)
        let rowLength = rank == 0 ? 1 : outShape[rank - 1]
        let rows = rowLength == 0 ? 0 : count / rowLength
        let last = rank == 0 ? [0] : sources[rank - 1]
        let lastStride = rank == 0 ? 1 : strides[rank - 1]
        func pick<T>(_ v: [T], _ pad: T) -> [T] {
            [T](unsafeUninitializedCapacity: count) { out, written in
                v.withUnsafeBufferPointer { src in
                    var index = [Int](repeating: 0, count: max(rank - 1, 0))
                    var previous = Int.min
                    for row in 0..<rows {
                        // The source row's offset (-1: outside the input on some axis).
                        var base = 0
                        for axis in 0..<max(rank - 1, 0) {
                            let s = sources[axis][index[axis]]
                            if s < 0 { base = -1; break }
                            base += s * strides[axis]
                        }
                        let dst = out.baseAddress! + row * rowLength
                        if base == previous && row > 0 {
                            dst.initialize(from: dst - rowLength, count: rowLength)
                        } else if base < 0 {
                            dst.initialize(repeating: pad, count: rowLength)
                        } else {
                            for j in 0..<rowLength {
                                let s = last[j]
                                (dst + j).initialize(to: s < 0 ? pad : src[base + s * lastStride])
                            }
                        }
                        previous = base
                        var axis = rank - 2
                        while axis >= 0 {
                            index[axis] += 1
                            if index[axis] < outShape[axis] { break }
                            index[axis] = 0
                            axis -= 1
                        }
                    }
                }
                written = rows * rowLength
            }
        }
        let storage: HostStorage
        switch x.storage {
        case .float(let v): storage = .float(pick(v, Float(fill)))
        case .double(let v): storage = .double(pick(v, fill))
        case .int(let v): storage = .int(pick(v, fill.isFinite ? Int64(fill) : 0))
        case .bool(let v): storage = .bool(pick(v, fill != 0))
        }
        return HostTensor(dtype: x.dtype, shape: outShape, storage: storage)
    }

    /// Linear or cubic resampling: each planned axis in turn, as weighted sums of input lanes.
    static func interpolated(_ x: HostTensor, _ plans: [(axis: Int, plan: ResamplingPlan)], outShape: [Int]) -> HostTensor {
        if plans.isEmpty { return x }
        var shape = x.shape
        var data = x.storage.doubles
        for (axis, plan) in plans {
            let lanes = AxisLanes(shape: shape, axis: axis)
            let inner = lanes.inner, extent = lanes.extent
            var out = [Double](repeating: 0, count: lanes.outer * plan.outputLength * inner)
            data.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for o in 0..<lanes.outer {
                        let srcBase = o * extent * inner
                        for j in 0..<plan.outputLength {
                            let dstBase = (o * plan.outputLength + j) * inner
                            if plan.extrapolated[j] {
                                for i in 0..<inner { dst[dstBase + i] = plan.extrapolationValue }
                                continue
                            }
                            for t in 0..<plan.taps {
                                let w = plan.weights[j * plan.taps + t]
                                if w == 0 { continue }
                                let s = srcBase + plan.indices[j * plan.taps + t] * inner
                                for i in 0..<inner { dst[dstBase + i] += w * src[s + i] }
                            }
                        }
                    }
                }
            }
            shape[axis] = plan.outputLength
            data = out
        }
        let storage: HostStorage
        switch HostStorage.kind(of: x.dtype) {
        case .float: storage = .float(data.map { Float($0) })
        case .double: storage = .double(data)
        default:
            let range = DTypeBounds.integerRange(of: x.dtype)
            storage = .int(HostStorage.double(data).integers.map { Swift.min(Swift.max($0, range.lowerBound), range.upperBound) })
        }
        return HostTensor(dtype: x.dtype, shape: outShape, storage: storage)
    }
}
