import BNConvCore
import Foundation

/// Reductions and the ops that fold along an axis: `ReduceMean ReduceSum ReduceMax ReduceMin
/// ReduceProd ReduceL1 ReduceL2 ReduceLogSumExp ReduceSumSquare ReduceLogSum`, `ArgMax ArgMin`,
/// and the softmax family `Softmax LogSoftmax Hardmax`.
///
/// Floating-point lanes accumulate in Double; integer lanes in Int64 (wrapping, as the dtype
/// does). A reduction over an empty lane gives the fold's identity (0 for sums, 1 for a product,
/// -inf for a maximum or the dtype's least value, NaN for a mean).
enum ReductionOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = [
        "ReduceMean": reduction(.mean),
        "ReduceSum": reduction(.sum),
        "ReduceMax": reduction(.max),
        "ReduceMin": reduction(.min),
        "ReduceProd": reduction(.prod),
        "ReduceL1": reduction(.l1),
        "ReduceL2": reduction(.l2),
        "ReduceLogSumExp": reduction(.logSumExp),
        "ReduceSumSquare": reduction(.sumSquare),
        "ReduceLogSum": reduction(.logSum),
        "ArgMax": argExtreme(maximum: true),
        "ArgMin": argExtreme(maximum: false),
        "Softmax": softmax(.softmax),
        "LogSoftmax": softmax(.logSoftmax),
        "Hardmax": softmax(.hardmax),
    ]

    // MARK: - Reduce*

    /// What a Reduce op folds each lane into.
    enum Fold: Sendable {
        /// Σx.
        case sum
        /// Σx / n.
        case mean
        /// The largest element (NaN when a lane holds one).
        case max
        /// The smallest element (NaN when a lane holds one).
        case min
        /// Πx.
        case prod
        /// Σ|x|.
        case l1
        /// √Σx².
        case l2
        /// log Σ exp(x), computed around the lane's maximum.
        case logSumExp
        /// Σx².
        case sumSquare
        /// log Σx.
        case logSum

        /// The opset from which the op reads its axes from input 1 instead of an attribute.
        var axesInputOpset: Int { self == .sum ? 13 : 18 }
    }

    /// The builder of a Reduce op: attributes `keepdims` (default 1) and `noop_with_empty_axes`
    /// (default 0), axes from the `axes` attribute or, from ``Fold/axesInputOpset``, input 1.
    static func reduction(_ fold: Fold) -> KernelBuilder {
        { a in
            let keepDims = try a.int("keepdims", 1) != 0
            let noopWithEmptyAxes = try a.int("noop_with_empty_axes", 0) != 0
            let axesFromInput = a.opset >= fold.axesInputOpset
            let attributeAxes = axesFromInput ? nil : try a.ints("axes")
            return ClosureKernel { values in
                let inputs = OpInputs(a.op, values)
                let x = try inputs.required(0)
                let axes = axesFromInput ? inputs.integers(1) : attributeAxes
                let reduced = try reducedAxes(axes, rank: x.rank, noopWhenEmpty: noopWithEmptyAxes, a)
                let layout = ReductionLayout(shape: x.shape, reduced: reduced, keepDims: keepDims)
                return [try reduce(x, layout, fold, a)]
            }
        }
    }

    /// One flag per axis of a rank-`rank` tensor: whether `axes` reduces it. No axes (absent or
    /// empty) reduce every axis, or none with `noop_with_empty_axes`.
    static func reducedAxes(_ axes: [Int]?, rank: Int, noopWhenEmpty: Bool, _ a: OpAttributes) throws -> [Bool] {
        guard let axes, !axes.isEmpty else { return Array(repeating: !noopWhenEmpty, count: rank) }
        var reduced = Array(repeating: false, count: rank)
        for axis in axes {
            guard rank > 0 else { throw a.invalid("axis \(axis) given for a scalar input") }
            let resolved = try Shapes.axis(axis, rank: rank, op: a.op)
            guard !reduced[resolved] else { throw a.invalid("axes \(axes) name axis \(resolved) twice") }
            reduced[resolved] = true
        }
        return reduced
    }

    /// `x` folded along `layout`'s lanes, in `x`'s dtype.
    static func reduce(_ x: HostTensor, _ layout: ReductionLayout, _ fold: Fold, _ a: OpAttributes) throws -> HostTensor {
        let storage: HostStorage
        switch x.storage {
        case .float(let v): storage = .float(foldFloats(v, layout, fold).map { Float($0) })
        case .double(let v): storage = .double(foldFloats(v, layout, fold))
        case .int(let v): storage = .int(foldIntegers(v, layout, fold, dtype: x.dtype))
        case .bool(let v):
            guard fold == .max || fold == .min else { throw a.invalid("input of type bool (a number is needed)") }
            storage = .bool(foldBools(v, layout, any: fold == .max))
        }
        return HostTensor(dtype: x.dtype, shape: layout.outputShape, storage: storage)
    }

    /// Floating-point lanes folded with Double accumulators.
    static func foldFloats<T: BinaryFloatingPoint>(_ x: [T], _ layout: ReductionLayout, _ fold: Fold) -> [Double] {
        let offsets = layout.laneOffsets
        let n = offsets.count
        var out = [Double](repeating: 0, count: layout.laneStarts.count)
        x.withUnsafeBufferPointer { px in
            offsets.withUnsafeBufferPointer { po in
                for (lane, start) in layout.laneStarts.enumerated() {
                    var acc = 0.0
                    switch fold {
                    case .sum, .mean:
                        for k in 0..<n { acc += Double(px[start + po[k]]) }
                        if fold == .mean { acc /= Double(n) }
                    case .max:
                        acc = -.infinity
                        for k in 0..<n {
                            let v = Double(px[start + po[k]])
                            if v > acc || v.isNaN { acc = v }
                        }
                    case .min:
                        acc = .infinity
                        for k in 0..<n {
                            let v = Double(px[start + po[k]])
                            if v < acc || v.isNaN { acc = v }
                        }
                    case .prod:
                        acc = 1
                        for k in 0..<n { acc *= Double(px[start + po[k]]) }
                    case .l1:
                        for k in 0..<n { acc += abs(Double(px[start + po[k]])) }
                    case .l2, .sumSquare:
                        for k in 0..<n { let v = Double(px[start + po[k]]); acc += v * v }
                        if fold == .l2 { acc = acc.squareRoot() }
                    case .logSum:
                        for k in 0..<n { acc += Double(px[start + po[k]]) }
                        acc = Foundation.log(acc)
                    case .logSumExp:
                        var peak = -Double.infinity
                        for k in 0..<n {
                            let v = Double(px[start + po[k]])
                            if v > peak || v.isNaN { peak = v }
                        }
                        if peak.isFinite {
                            for k in 0..<n { acc += Foundation.exp(Double(px[start + po[k]]) - peak) }
                            acc = peak + Foundation.log(acc)
                        } else {
                            acc = peak  // empty or all -inf: -inf; +inf or NaN propagate
                        }
                    }
                    out[lane] = acc
                }
            }
        }
        return out
    }

    /// Integer lanes folded in Int64 (sums and products wrap); the logarithmic and L2 folds go
    /// through Double and truncate toward zero.
    static func foldIntegers(_ x: [Int64], _ layout: ReductionLayout, _ fold: Fold, dtype: DType) -> [Int64] {
        let offsets = layout.laneOffsets
        let n = offsets.count
        let bounds = DTypeBounds.integerRange(of: dtype)
        switch fold {
        case .l2, .logSum, .logSumExp:
            let doubles = foldFloats(x.map(Double.init), layout, fold)
            return HostStorage.double(doubles).integers
        default: break
        }
        var out = [Int64](repeating: 0, count: layout.laneStarts.count)
        for (lane, start) in layout.laneStarts.enumerated() {
            var acc: Int64 = 0
            switch fold {
            case .sum, .mean:
                for k in 0..<n { acc &+= x[start + offsets[k]] }
                if fold == .mean { acc = n == 0 ? 0 : acc / Int64(n) }
            case .max:
                acc = bounds.lowerBound
                for k in 0..<n { acc = Swift.max(acc, x[start + offsets[k]]) }
            case .min:
                acc = bounds.upperBound
                for k in 0..<n { acc = Swift.min(acc, x[start + offsets[k]]) }
            case .prod:
                acc = 1
                for k in 0..<n { acc &*= x[start + offsets[k]] }
            case .l1:
                for k in 0..<n { let v = x[start + offsets[k]]; acc &+= v < 0 ? 0 &- v : v }
            case .sumSquare:
                for k in 0..<n { let v = x[start + offsets[k]]; acc &+= v &* v }
            case .l2, .logSum, .logSumExp:
                break  // folded in Double above
            }
            out[lane] = acc
        }
        return out
    }

    /// Bool lanes folded with OR (`any`, ReduceMax) or AND (ReduceMin).
    static func foldBools(_ x: [Bool], _ layout: ReductionLayout, any: Bool) -> [Bool] {
        layout.laneStarts.map { start in
            any ? layout.laneOffsets.contains { x[start + $0] } : layout.laneOffsets.allSatisfy { x[start + $0] }
        }
    }

    // MARK: - ArgMax, ArgMin

    /// The builder of ArgMax (`maximum`) or ArgMin: attributes `axis` (default 0), `keepdims`
    /// (default 1), `select_last_index` (default 0: the first of equal extremes). A NaN counts as
    /// the extreme, as in NumPy.
    static func argExtreme(maximum: Bool) -> KernelBuilder {
        { a in
            let axis = try a.int("axis", 0)
            let keepDims = try a.int("keepdims", 1) != 0
            let last = try a.int("select_last_index", 0) != 0
            return ClosureKernel { values in
                let x = try OpInputs(a.op, values).required(0)
                guard x.rank > 0 else { throw a.invalid("input is a scalar (it needs an axis)") }
                let resolved = try Shapes.axis(axis, rank: x.rank, op: a.op)
                let lanes = AxisLanes(shape: x.shape, axis: resolved)
                guard lanes.extent > 0 || lanes.count == 0 else {
                    throw a.invalid("axis \(axis) has length 0 (no element to select)")
                }
                let indices: [Int64]
                switch x.storage {
                case .float(let v): indices = extremeIndices(v, lanes, maximum: maximum, last: last)
                case .double(let v): indices = extremeIndices(v, lanes, maximum: maximum, last: last)
                case .int(let v): indices = extremeIndices(v.map(Double.init), lanes, maximum: maximum, last: last)
                case .bool: throw a.invalid("input of type bool (a number is needed)")
                }
                var shape = x.shape
                if keepDims { shape[resolved] = 1 } else { shape.remove(at: resolved) }
                return [HostTensor(dtype: .int64, shape: shape, storage: .int(indices))]
            }
        }
    }

    /// Per lane, the position of its largest (`maximum`) or smallest element; the first NaN wins.
    static func extremeIndices<T: BinaryFloatingPoint>(_ x: [T], _ lanes: AxisLanes, maximum: Bool, last: Bool) -> [Int64] {
        (0..<lanes.count).map { lane in
            let start = lanes.start(of: lane)
            var best = 0
            var bestValue = x[start]
            if bestValue.isNaN { return 0 }
            for k in 1..<max(lanes.extent, 1) {
                let v = x[start + k * lanes.inner]
                if v.isNaN { return Int64(k) }
                let better = maximum ? (last ? v >= bestValue : v > bestValue) : (last ? v <= bestValue : v < bestValue)
                if better { best = k; bestValue = v }
            }
            return Int64(best)
        }
    }

    // MARK: - Softmax, LogSoftmax, Hardmax

    /// The three ops normalizing along an axis.
    enum SoftmaxForm: Sendable {
        /// exp(x - max) / Σ exp(x - max).
        case softmax
        /// (x - max) - log Σ exp(x - max).
        case logSoftmax
        /// 1 at the first largest element of the lane, 0 elsewhere.
        case hardmax
    }

    /// The builder of Softmax, LogSoftmax or Hardmax. Before opset 13 the input is seen as 2-D,
    /// flattened at `axis` (default 1), and the op normalizes whole rows; from 13 it normalizes
    /// along the one axis `axis` (default -1).
    static func softmax(_ form: SoftmaxForm) -> KernelBuilder {
        { a in
            let flattens = a.opset < 13
            let axis = try a.int("axis", flattens ? 1 : -1)
            return ClosureKernel { values in
                let x = try OpInputs(a.op, values).required(0)
                let lanes: AxisLanes
                if flattens {
                    let resolved = axis < 0 ? axis + x.rank : axis
                    guard resolved >= 0 && resolved <= x.rank else {
                        throw a.invalid("axis \(axis) is out of range for rank \(x.rank)")
                    }
                    lanes = AxisLanes(shape: x.shape, axes: resolved..<x.rank)
                } else if x.rank == 0 {
                    lanes = AxisLanes(shape: [1], axis: 0)
                } else {
                    lanes = AxisLanes(shape: x.shape, axis: try Shapes.axis(axis, rank: x.rank, op: a.op))
                }
                let storage: HostStorage
                switch x.storage {
                case .float(let v): storage = .float(normalized(v, lanes, form))
                case .double(let v): storage = .double(normalized(v, lanes, form))
                default: throw a.invalid("input of type \(x.dtype) (a floating-point type is needed)")
                }
                return [HostTensor(dtype: x.dtype, shape: x.shape, storage: storage)]
            }
        }
    }

    /// `x` normalized along every lane of `lanes` by `form`, accumulating in Double.
    static func normalized<T: BinaryFloatingPoint>(_ x: [T], _ lanes: AxisLanes, _ form: SoftmaxForm) -> [T] {
        var out = [T](repeating: 0, count: x.count)
        let extent = lanes.extent, stride = lanes.inner
        guard extent > 0 else { return out }
        for lane in 0..<lanes.count {
            let start = lanes.start(of: lane)
            var peak = -Double.infinity
            var peakIndex = 0
            for k in 0..<extent {
                let v = Double(x[start + k * stride])
                if v > peak || (v.isNaN && !peak.isNaN) { peak = v; peakIndex = k }
            }
            switch form {
            case .hardmax:
                out[start + peakIndex * stride] = 1
            case .softmax:
                var sum = 0.0
                for k in 0..<extent { sum += Foundation.exp(Double(x[start + k * stride]) - peak) }
                for k in 0..<extent { out[start + k * stride] = T(Foundation.exp(Double(x[start + k * stride]) - peak) / sum) }
            case .logSoftmax:
                var sum = 0.0
                for k in 0..<extent { sum += Foundation.exp(Double(x[start + k * stride]) - peak) }
                let logSum = Foundation.log(sum)
                for k in 0..<extent { out[start + k * stride] = T(Double(x[start + k * stride]) - peak - logSum) }
            }
        }
        return out
    }
}
