import BNConvCore

/// Exact output shapes of the op-library ops when every input's shape is known (a run's input
/// shapes are), and the elements of the constant operands that set a shape (a Reshape's target,
/// Slice's starts, Unsqueeze's axes, ConstantOfShape's shape, ...).
///
/// Each rule follows the op library's own (ONNX's operator specification; TensorFlow's op
/// definitions for the `TF.` ops) and gives `nil` wherever the shape is not determined without the
/// data: a missing operand, an operand whose elements are needed but computed at run time (a
/// Reshape target that depends on input values), a data-dependent size (NonZero), an op it does not
/// cover, or operands the op would refuse. `nil` is always safe: the value's shape is then worked
/// out when it is computed, as before.
extension TensorOpShapes {
    /// Ops whose output has their first operand's shape.
    package static let sameShape: Set<String> = [
        "Identity", "Cast", "Softmax", "LogSoftmax", "Hardmax", "Trilu", "LRN", "InstanceNormalization",
        "MeanVarianceNormalization", "GroupNormalization", "IsNaN", "IsInf", "Not", "TF.ZerosLike", "TF.OnesLike",
        "TF.BiasAdd", "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "ThresholdedRelu", "Sigmoid", "HardSigmoid",
        "HardSwish", "Tanh", "Softplus", "Softsign", "Mish", "Gelu", "Sqrt", "Neg", "Abs", "Exp", "Log",
        "Reciprocal", "Floor", "Ceil", "Erf", "Sign", "TF.Square", "TF.Rsqrt", "Clip", "CastLike", "Dropout",
    ]

    /// Ops broadcasting all their operands together (NumPy rules).
    static let broadcasting: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum", "Where", "Equal", "Greater", "Less",
        "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "PRelu", "TF.SquaredDifference", "TF.DivNoNan",
        "TF.FloorDiv",
    ]

    /// The shape of every output of `node` running `op`, given each node input's shape (`inputs`,
    /// nil when unknown) and the elements of the inputs that are constants (`values`, nil for a
    /// value computed at run time); weights are read from the node. `nil` when not determined.
    package static func exactOutputShapes(_ op: TensorOp, node: Node, inputs: [[Int]?], values: [Tensor?]) -> [[Int]]? {
        let operands = Operands(op: op, node: node, inputs: inputs, values: values)
        let outputs = node.outputs.count
        guard outputs >= 1 else { return nil }
        if op.type == "TF.IdentityN" {
            let shapes = (0..<operands.count).map { operands.shape($0) }
            guard shapes.count >= outputs, shapes.allSatisfy({ $0 != nil }) else { return nil }
            return Array(shapes.prefix(outputs).map { $0! })
        }
        if op.type == "Split" { return splitShapes(operands, outputs: outputs) }
        if op.type == "Dropout", outputs == 2, let x = operands.shape(0) { return [x, x] }
        guard outputs == 1, let shape = singleOutputShape(operands) else { return nil }
        guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
        return [shape]
    }

    /// The shape of the one output of the op `operands` belong to.
    private static func singleOutputShape(_ o: Operands) -> [Int]? {
        let op = o.op
        let type = op.type
        if sameShape.contains(type) { return o.shape(0) }
        if broadcasting.contains(type) {
            var shapes: [[Int]] = []
            for p in 0..<o.count where o.isGiven(p) {
                guard let s = o.shape(p) else { return nil }
                shapes.append(s)
            }
            // Before opset 7, `broadcast=1` lays the second operand onto the first.
            if op.opset < 7, o.int("broadcast", 0) != 0 { return shapes.first }
            return broadcast(shapes)
        }
        switch type {
        case "Shape":
            guard let x = o.shape(0) else { return nil }
            let rank = x.count
            func clamped(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
            guard let start = o.intOrNil("start", 0), let end = o.intOrNil("end", rank) else { return nil }
            return [max(clamped(end) - clamped(start), 0)]
        case "TF.Shape":
            return o.shape(0).map { [$0.count] }
        case "Size", "TF.Size", "TF.Rank":
            return o.shape(0) == nil ? nil : []
        case "Reshape":
            guard let x = o.shape(0) else { return nil }
            let target = op.opset < 5 ? o.intsAttribute("shape") : o.integers(1)
            guard let target else { return nil }
            return reshaped(x, target: target, allowZero: o.int("allowzero", 0) != 0)
        case "Flatten":
            guard let x = o.shape(0), let axis = o.intOrNil("axis", 1) else { return nil }
            let a = axis < 0 ? axis + x.count : axis
            guard a >= 0, a <= x.count, let outer = product(x[..<a]), let inner = product(x[a...]) else { return nil }
            return [outer, inner]
        case "Squeeze":
            guard let x = o.shape(0) else { return nil }
            let given: [Int]?
            if op.opset >= 13 {
                if o.isGiven(1) { guard let axes = o.integers(1) else { return nil }; given = axes } else { given = nil }
            } else {
                given = o.intsAttribute("axes")
            }
            guard let given else { return x.filter { $0 != 1 } }
            guard let axes = distinctAxes(given, rank: x.count), axes.allSatisfy({ x[$0] == 1 }) else { return nil }
            return x.indices.filter { !axes.contains($0) }.map { x[$0] }
        case "Unsqueeze":
            guard let x = o.shape(0) else { return nil }
            guard let given = op.opset >= 13 ? o.integers(1) : o.intsAttribute("axes") else { return nil }
            let rank = x.count + given.count
            guard let axes = distinctAxes(given, rank: rank) else { return nil }
            var source = x.makeIterator()
            return (0..<rank).map { axes.contains($0) ? 1 : source.next()! }
        case "Transpose":
            guard let x = o.shape(0) else { return nil }
            let permutation = o.intsAttribute("perm") ?? Array(x.indices.reversed())
            guard permutation.count == x.count, Set(permutation) == Set(x.indices) else { return nil }
            return permutation.map { x[$0] }
        case "Concat":
            guard let axis = o.intOrNil("axis", op.opset >= 4 ? nil : 1) else { return nil }
            return concatenated((0..<o.count).map { o.shape($0) }, axis: axis)
        case "Gather":
            guard let data = o.shape(0), let indices = o.shape(1), !data.isEmpty, let axis = o.intOrNil("axis", 0),
                  let a = resolved(axis, rank: data.count) else { return nil }
            return Array(data[..<a]) + indices + Array(data[(a + 1)...])
        case "GatherElements":
            return o.shape(1)
        case "Slice":
            guard let x = o.shape(0) else { return nil }
            if op.opset >= 10 {
                guard let starts = o.integers(1), let ends = o.integers(2) else { return nil }
                let axes = o.isGiven(3) ? o.integers(3) : nil, steps = o.isGiven(4) ? o.integers(4) : nil
                if o.isGiven(3) && axes == nil || o.isGiven(4) && steps == nil { return nil }
                return sliced(x, starts: starts, ends: ends, axes: axes, steps: steps)
            }
            guard let starts = o.intsAttribute("starts"), let ends = o.intsAttribute("ends") else { return nil }
            return sliced(x, starts: starts, ends: ends, axes: o.intsAttribute("axes"), steps: nil)
        case "Expand":
            guard let x = o.shape(0), let target = o.integers(1), target.allSatisfy({ $0 >= 0 }) else { return nil }
            return broadcast([x, target])
        case "Tile":
            guard op.opset >= 6, let x = o.shape(0), let repeats = o.integers(1), repeats.count == x.count,
                  repeats.allSatisfy({ $0 >= 0 }) else { return nil }
            var shape: [Int] = []
            for (d, r) in zip(x, repeats) {
                let (n, overflow) = d.multipliedReportingOverflow(by: r)
                guard !overflow else { return nil }
                shape.append(n)
            }
            return shape
        case "ConstantOfShape":
            guard let shape = o.integers(0), shape.allSatisfy({ $0 >= 0 }) else { return nil }
            return shape
        case "TF.Fill":
            guard let dims = o.flatIntegers(0), dims.allSatisfy({ $0 >= 0 }) else { return nil }
            return dims
        case "Range":
            return rangeCount(o).map { [$0] }
        case "Pad":
            return padded(o)
        case "TF.MirrorPad":
            guard let x = o.shape(0), let pads = o.flatIntegers(1), pads.count == 2 * x.count else { return nil }
            return x.indices.map { x[$0] + pads[2 * $0] + pads[2 * $0 + 1] }
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
             "ReduceLogSumExp", "ReduceSumSquare", "ReduceLogSum":
            guard let x = o.shape(0) else { return nil }
            let fromInput = op.opset >= (type == "ReduceSum" ? 13 : 18)
            let axes: [Int]?
            if fromInput {
                if o.isGiven(1) { guard let given = o.integers(1) else { return nil }; axes = given } else { axes = nil }
            } else {
                axes = o.intsAttribute("axes")
            }
            return reduced(x, axes: axes, keepDims: o.int("keepdims", 1) != 0, noopWhenEmpty: o.int("noop_with_empty_axes", 0) != 0)
        case "ArgMax", "ArgMin":
            guard let x = o.shape(0), !x.isEmpty, let axis = o.intOrNil("axis", 0), let a = resolved(axis, rank: x.count) else { return nil }
            return reduced(x, axes: [a], keepDims: o.int("keepdims", 1) != 0, noopWhenEmpty: false)
        case "TF.All", "TF.Any":
            guard let x = o.shape(0) else { return nil }
            let axes: [Int]
            if o.isGiven(1) { guard let given = o.flatIntegers(1) else { return nil }; axes = given } else { axes = Array(x.indices) }
            var set = Set<Int>()
            for axis in axes {
                guard let r = resolved(axis, rank: x.count) else { return nil }
                set.insert(r)
            }
            if o.int("keep_dims", 0) != 0 { return x.indices.map { set.contains($0) ? 1 : x[$0] } }
            return x.indices.filter { !set.contains($0) }.map { x[$0] }
        case "MatMul":
            return matMulShape(o.shape(0), o.shape(1))
        case "Gemm":
            guard let a = o.shape(0), let b = o.shape(1), a.count == 2, b.count == 2 else { return nil }
            let (m, k) = o.int("transA", 0) != 0 ? (a[1], a[0]) : (a[0], a[1])
            let (kB, n) = o.int("transB", 0) != 0 ? (b[1], b[0]) : (b[0], b[1])
            return k == kB ? [m, n] : nil
        case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
            guard let x = o.shape(0), x.count >= 2 else { return nil }
            return Array(x[..<2]) + Array(repeating: 1, count: x.count - 2)
        case "Resize", "Upsample":
            return resized(o)
        case "Conv":
            guard let x = o.shape(0), let w = o.shape(1), x.count >= 3, w.count == x.count, let group = o.intOrNil("group", 1),
                  group >= 1, w[1] * group == x[1], w[0] % group == 0 else { return nil }
            let kernel = Array(w[2...])
            if let given = o.intsAttribute("kernel_shape"), given != kernel { return nil }
            return window(Array(x[2...]), kernel: kernel, o, ceilMode: false).map { [x[0], w[0]] + $0 }
        case "MaxPool", "AveragePool", "LpPool":
            guard let x = o.shape(0), let kernel = o.intsAttribute("kernel_shape"), x.count == kernel.count + 2 else { return nil }
            return window(Array(x[2...]), kernel: kernel, o, ceilMode: o.int("ceil_mode", 0) != 0).map { Array(x[..<2]) + $0 }
        case "TF.Conv2D", "TF.DepthwiseConv2dNative":
            return tensorFlowConvolution(o, depthwise: type == "TF.DepthwiseConv2dNative")
        case "BatchNormalization", "LayerNormalization":
            return o.shape(0)
        case "DepthToSpace", "SpaceToDepth":
            guard let x = o.shape(0), x.count == 4, let b = o.intOrNil("blocksize", nil), b >= 1 else { return nil }
            if type == "DepthToSpace" {
                guard x[1] % (b * b) == 0 else { return nil }
                return [x[0], x[1] / (b * b), x[2] * b, x[3] * b]
            }
            guard x[2] % b == 0, x[3] % b == 0 else { return nil }
            return [x[0], x[1] * b * b, x[2] / b, x[3] / b]
        case "TF.Pack":
            let shapes = (0..<o.count).map { o.shape($0) }
            guard let first = shapes.first ?? nil, shapes.allSatisfy({ $0 == first }),
                  let axis = o.intOrNil("axis", 0), let a = resolved(axis, rank: first.count + 1) else { return nil }
            var shape = first
            shape.insert(shapes.count, at: a)
            return shape
        case "TF.StridedSlice":
            guard let x = o.shape(0), let begin = o.flatIntegers(1), let end = o.flatIntegers(2) else { return nil }
            let strides: [Int]
            if o.isGiven(3) { guard let s = o.flatIntegers(3) else { return nil }; strides = s } else { strides = Array(repeating: 1, count: begin.count) }
            return stridedSliced(x, begin: begin, end: end, strides: strides, o)
        case "TF.Slice":
            guard let x = o.shape(0), let begin = o.flatIntegers(1), let size = o.flatIntegers(2), begin.count == x.count,
                  size.count == x.count else { return nil }
            var lengths: [Int] = []
            for axis in x.indices {
                let length = size[axis] == -1 ? x[axis] - begin[axis] : size[axis]
                guard begin[axis] >= 0, length >= 0, begin[axis] + length <= x[axis] else { return nil }
                lengths.append(length)
            }
            return lengths
        default:
            return nil
        }
    }

    // MARK: Rules shared by several ops

    /// The NumPy broadcast of `shapes`, or nil when they do not broadcast.
    static func broadcast(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out = Array(repeating: 1, count: rank)
        for shape in shapes {
            for (k, d) in shape.enumerated() {
                let axis = rank - shape.count + k
                if out[axis] == 1 { out[axis] = d } else if d != 1 && d != out[axis] { return nil }
            }
        }
        return out
    }

    /// ONNX Reshape's 0 (copy, unless `allowZero`) and -1 (infer) rules.
    private static func reshaped(_ x: [Int], target: [Int], allowZero: Bool) -> [Int]? {
        var out = target
        var inferred: Int?
        for (i, d) in target.enumerated() {
            if d == 0 && !allowZero {
                guard i < x.count else { return nil }
                out[i] = x[i]
            } else if d == -1 {
                guard inferred == nil else { return nil }
                inferred = i
            } else if d < -1 {
                return nil
            }
        }
        if allowZero && inferred != nil && target.contains(0) { return nil }
        guard let count = product(x[...]) else { return nil }
        if let i = inferred {
            out[i] = 1
            guard let known = product(out[...]), known > 0, count % known == 0 else { return nil }
            out[i] = count / known
        }
        return product(out[...]) == count ? out : nil
    }

    private static func concatenated(_ shapes: [[Int]?], axis: Int) -> [Int]? {
        guard let first = shapes.first ?? nil, !first.isEmpty, let a = resolved(axis, rank: first.count) else { return nil }
        var total = 0
        for shape in shapes {
            guard let shape, shape.count == first.count,
                  shape.indices.allSatisfy({ $0 == a || shape[$0] == first[$0] }) else { return nil }
            total += shape[a]
        }
        var out = first
        out[a] = total
        return out
    }

    /// ONNX Slice's clamping (the op library's `sliceWindow`).
    private static func sliced(_ x: [Int], starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) -> [Int]? {
        let axes = axes ?? Array(0..<starts.count)
        let steps = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count,
              let resolvedAxes = distinctAxes(axes, rank: x.count) else { return nil }
        var out = x
        for (k, axis) in resolvedAxes.enumerated() {
            let d = x[axis], step = steps[k]
            guard step != 0 else { return nil }
            func position(_ v: Int) -> Int { v < 0 ? v &+ d : v }
            var start = position(starts[k]), end = position(ends[k])
            if step > 0 {
                start = min(max(start, 0), d)
                end = min(max(end, 0), d)
                out[axis] = end > start ? (end - start - 1) / step + 1 : 0
            } else {
                start = min(max(start, 0), d - 1)
                end = min(max(end, -1), d - 1)
                out[axis] = start > end ? (start - end - 1) / (0 &- step) + 1 : 0
            }
        }
        return out
    }

    private static func splitShapes(_ o: Operands, outputs: Int) -> [[Int]]? {
        guard let x = o.shape(0), !x.isEmpty, let axis = o.intOrNil("axis", 0), let a = resolved(axis, rank: x.count) else { return nil }
        let dim = x[a]
        var sizes: [Int]
        let given: [Int]?
        if o.op.opset < 13 {
            given = o.intsAttribute("split")
        } else if o.isGiven(1) {
            guard let s = o.integers(1) else { return nil }
            given = s
        } else {
            given = nil
        }
        if let given {
            guard given.allSatisfy({ $0 >= 0 }), given.reduce(0, &+) == dim else { return nil }
            sizes = given
        } else if o.has("num_outputs") {
            guard let n = o.intOrNil("num_outputs", nil), n >= 1 else { return nil }
            let chunk = (dim + n - 1) / n
            sizes = Array(repeating: chunk, count: n)
            sizes[n - 1] = dim - chunk * (n - 1)
            guard sizes[n - 1] >= 0 else { return nil }
        } else {
            return nil
        }
        guard sizes.count >= outputs else { return nil }
        return sizes.prefix(outputs).map { size in
            var shape = x
            shape[a] = size
            return shape
        }
    }

    /// The element count of ONNX Range (the op library's rule: integers exactly, floats in double).
    private static func rangeCount(_ o: Operands) -> Int? {
        guard let start = o.value(0), let limit = o.value(1), let delta = o.value(2),
              start.count == 1, limit.count == 1, delta.count == 1,
              start.dtype == limit.dtype, start.dtype == delta.dtype, start.dtype != .bool else { return nil }
        if !start.dtype.isFloatingPoint {
            let (s, l, d) = (start.integers()[0], limit.integers()[0], delta.integers()[0])
            guard d != 0 else { return nil }
            let (diff, overflow) = l.subtractingReportingOverflow(s)
            guard !overflow else { return nil }
            let q = diff / d, r = diff % d
            return Int(exactly: max(0, q + (r != 0 && (diff > 0) == (d > 0) ? 1 : 0)))
        }
        // The op library computes float ranges from the operands as stored (float32 rounded).
        let (s, l, d) = (start.doubles()[0], limit.doubles()[0], delta.doubles()[0])
        guard d != 0 else { return nil }
        let n = ((l - s) / d).rounded(.up)
        guard n.isFinite else { return n < 0 ? 0 : nil }
        return n > 0 ? Int(min(n, 1e15)) : 0
    }

    private static func padded(_ o: Operands) -> [Int]? {
        guard let x = o.shape(0) else { return nil }
        let fromInputs = o.op.opset >= 11
        guard let pads = fromInputs ? o.integers(1) : o.intsAttribute(o.op.opset < 2 ? "paddings" : "pads") else { return nil }
        var axes = Array(x.indices)
        if fromInputs && o.isGiven(3) {
            guard let given = o.integers(3), let resolvedAxes = distinctAxes(given, rank: x.count) else { return nil }
            axes = resolvedAxes
        }
        guard pads.count == 2 * axes.count else { return nil }
        var out = x
        for (k, axis) in axes.enumerated() {
            let (n, o1) = x[axis].addingReportingOverflow(pads[k])
            let (size, o2) = n.addingReportingOverflow(pads[axes.count + k])
            guard !o1, !o2, size >= 0 else { return nil }
            out[axis] = size
        }
        return out
    }

    /// The output lengths of a sliding window over `input` (the op library's `SlidingWindow.forward`:
    /// `strides`, `dilations`, `pads` and `auto_pad` from the op's attributes, unless given).
    private static func window(_ input: [Int], kernel: [Int], _ o: Operands, ceilMode: Bool, strides given: [Int]? = nil,
                               dilations givenDilations: [Int]? = nil, autoPad givenPad: String? = nil, pads givenPads: [Int]? = nil) -> [Int]? {
        let rank = input.count
        let largest = 1 << 24
        let strides = given ?? o.intsAttribute("strides") ?? Array(repeating: 1, count: rank)
        let dilations = givenDilations ?? o.intsAttribute("dilations") ?? Array(repeating: 1, count: rank)
        for list in [kernel, strides, dilations] {
            guard list.count == rank, list.allSatisfy({ $0 >= 1 && $0 <= largest }) else { return nil }
        }
        guard rank >= 1, rank <= 3 else { return nil }
        let autoPad: String
        if let givenPad { autoPad = givenPad } else {
            switch o.op.attributes["auto_pad"] {
            case nil: autoPad = "NOTSET"
            case .string(let v)?: autoPad = v
            default: return nil
            }
        }
        func extent(_ i: Int) -> Int { (kernel[i] - 1) * dilations[i] + 1 }
        var out: [Int] = []
        switch autoPad {
        case "NOTSET", "":
            let pads = givenPads ?? o.intsAttribute("pads") ?? Array(repeating: 0, count: 2 * rank)
            guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 && $0 <= largest }) else { return nil }
            for i in 0..<rank {
                let span = input[i] + pads[i] + pads[i + rank] - extent(i)
                guard span >= 0 else { return nil }
                var size = span / strides[i] + 1
                if ceilMode && span % strides[i] != 0 {
                    size += 1
                    if (size - 1) * strides[i] >= input[i] + pads[i] { size -= 1 }
                }
                out.append(size)
            }
        case "VALID":
            for i in 0..<rank {
                let span = input[i] - extent(i)
                guard span >= 0 else { return nil }
                out.append(span / strides[i] + 1)
            }
        case "SAME_UPPER", "SAME_LOWER":
            for i in 0..<rank { out.append((input[i] + strides[i] - 1) / strides[i]) }
        default:
            return nil
        }
        return out
    }

    /// TensorFlow's Conv2D and DepthwiseConv2dNative on a filter computed in the graph (the op
    /// library's `TensorFlowConvolution`: NHWC or NCHW, HWIO or HWCM filters).
    private static func tensorFlowConvolution(_ o: Operands, depthwise: Bool) -> [Int]? {
        guard let x = o.shape(0), let f = o.shape(1), x.count == 4, f.count == 4 else { return nil }
        let format: String
        switch o.op.attributes["data_format"] {
        case nil: format = "NHWC"
        case .string(let v)?: format = v
        default: return nil
        }
        let channelsFirst = format.hasPrefix("NC")
        let spatial = channelsFirst ? [2, 3] : [1, 2], channelAxis = channelsFirst ? 1 : 3
        let strides = o.intsAttribute("strides") ?? [1, 1, 1, 1], dilations = o.intsAttribute("dilations") ?? [1, 1, 1, 1]
        guard strides.count == 4, dilations.count == 4 else { return nil }
        let padding: String
        switch o.op.attributes["padding"] {
        case nil: padding = "VALID"
        case .string(let v)?: padding = v
        default: return nil
        }
        let autoPad: String, pads: [Int]?
        switch padding {
        case "SAME": autoPad = "SAME_UPPER"; pads = nil
        case "VALID": autoPad = "VALID"; pads = nil
        case "EXPLICIT":
            guard let explicit = o.intsAttribute("explicit_paddings"), explicit.count == 8 else { return nil }
            autoPad = "NOTSET"
            pads = [explicit[2 * spatial[0]], explicit[2 * spatial[1]], explicit[2 * spatial[0] + 1], explicit[2 * spatial[1] + 1]]
        default: return nil
        }
        let channels = x[channelAxis]
        let outputChannels: Int
        if depthwise {
            guard f[2] == channels else { return nil }
            outputChannels = f[2] * f[3]
        } else {
            guard f[2] > 0, channels % f[2] == 0, f[3] % (channels / f[2]) == 0 else { return nil }
            outputChannels = f[3]
        }
        guard let lengths = window(spatial.map { x[$0] }, kernel: [f[0], f[1]], o, ceilMode: false, strides: spatial.map { strides[$0] },
                                   dilations: spatial.map { dilations[$0] }, autoPad: autoPad, pads: pads) else { return nil }
        return channelsFirst ? [x[0], outputChannels] + lengths : [x[0]] + lengths + [outputChannels]
    }

    /// ONNX Resize's and Upsample's output lengths (the op library's `resampled`): `floor(scale x
    /// length)` per axis, or the sizes given (`keep_aspect_ratio_policy` other than `stretch` is left out).
    private static func resized(_ o: Operands) -> [Int]? {
        guard let x = o.shape(0) else { return nil }
        let op = o.op
        var scales: [Double]?, sizes: [Int]?
        if op.type == "Upsample" {
            if op.opset < 9 {
                guard case .floats(let v)? = op.attributes["scales"] else { return nil }
                scales = v
            } else {
                guard let v = o.value(1), v.dtype.isFloatingPoint else { return nil }
                scales = v.doubles()
            }
        } else if op.opset < 11 {
            guard let v = o.value(1), v.dtype.isFloatingPoint else { return nil }
            scales = v.doubles()
        } else {
            // An empty scales or sizes tensor stands for an absent one; a present one must be known.
            if o.isGiven(2) {
                guard let v = o.value(2) else { return nil }
                if v.count > 0 { scales = v.doubles() }
            }
            if o.isGiven(3) {
                guard let v = o.value(3), v.count == 0 || !v.dtype.isFloatingPoint else { return nil }
                if v.count > 0 { sizes = v.integers().map { Int(truncatingIfNeeded: $0) } }
            }
            if case .string(let policy)? = op.attributes["keep_aspect_ratio_policy"], policy != "stretch" { return nil }
        }
        var axes = Array(x.indices)
        if op.type == "Resize", op.opset >= 18, let given = o.intsAttribute("axes") {
            guard let resolvedAxes = distinctAxes(given, rank: x.count) else { return nil }
            axes = resolvedAxes
        }
        var out = x
        switch (scales, sizes) {
        case (let scales?, nil):
            guard scales.count == axes.count else { return nil }
            for (k, axis) in axes.enumerated() {
                guard scales[k] > 0, scales[k].isFinite else { return nil }
                let length = scales[k] * Double(x[axis])
                guard length < 1e15 else { return nil }
                out[axis] = Int(length.rounded(.down))
            }
        case (nil, let sizes?):
            guard sizes.count == axes.count else { return nil }
            for (k, axis) in axes.enumerated() {
                guard sizes[k] >= 0, x[axis] > 0 || sizes[k] == 0 else { return nil }
                out[axis] = sizes[k]
            }
        default:
            return nil
        }
        return out
    }

    private static func reduced(_ x: [Int], axes: [Int]?, keepDims: Bool, noopWhenEmpty: Bool) -> [Int]? {
        var flags: [Bool]
        if let axes, !axes.isEmpty {
            guard !x.isEmpty, let resolvedAxes = distinctAxes(axes, rank: x.count) else { return nil }
            flags = Array(repeating: false, count: x.count)
            for a in resolvedAxes { flags[a] = true }
        } else {
            flags = Array(repeating: !noopWhenEmpty, count: x.count)
        }
        if keepDims { return x.indices.map { flags[$0] ? 1 : x[$0] } }
        return x.indices.filter { !flags[$0] }.map { x[$0] }
    }

    private static func matMulShape(_ x: [Int]?, _ y: [Int]?) -> [Int]? {
        guard let x, let y, !x.isEmpty, !y.isEmpty else { return nil }
        let xs = x.count == 1 ? [1] + x : x, ys = y.count == 1 ? y + [1] : y
        guard xs[xs.count - 1] == ys[ys.count - 2], let batch = broadcast([Array(xs.dropLast(2)), Array(ys.dropLast(2))]) else { return nil }
        var out = batch
        if x.count > 1 { out.append(xs[xs.count - 2]) }
        if y.count > 1 { out.append(ys[ys.count - 1]) }
        return out
    }

    /// TensorFlow StridedSlice's output shape (the op library's `StridedSliceMasks`).
    private static func stridedSliced(_ x: [Int], begin b: [Int], end e: [Int], strides s: [Int], _ o: Operands) -> [Int]? {
        let m = b.count
        guard e.count == m, s.count == m, m <= 64 else { return nil }
        let beginMask = o.int("begin_mask", 0), endMask = o.int("end_mask", 0), ellipsis = o.int("ellipsis_mask", 0)
        let newAxis = o.int("new_axis_mask", 0), shrink = o.int("shrink_axis_mask", 0)
        func bit(_ mask: Int, _ i: Int) -> Bool { mask & (1 << i) != 0 }
        let named = (0..<m).filter { !bit(ellipsis, $0) && !bit(newAxis, $0) }.count
        guard (0..<m).filter({ bit(ellipsis, $0) }).count <= 1 else { return nil }
        var out: [Int] = []
        var axis = 0
        for i in 0..<m {
            if bit(ellipsis, i) {
                let covered = x.count - named
                guard covered >= 0 else { return nil }
                for _ in 0..<covered { out.append(x[axis]); axis += 1 }
                continue
            }
            if bit(newAxis, i) { out.append(1); continue }
            guard axis < x.count else { return nil }
            let n = x[axis], stride = s[i]
            guard stride != 0 else { return nil }
            if bit(shrink, i) {
                let index = b[i] < 0 ? b[i] &+ n : b[i]
                guard index >= 0 && index < n else { return nil }
                axis += 1
                continue
            }
            let (low, high) = stride > 0 ? (0, n) : (-1, n - 1)
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v &+ n : v, low), high) }
            let start = bit(beginMask, i) ? (stride > 0 ? 0 : n - 1) : clamp(b[i])
            let stop = bit(endMask, i) ? (stride > 0 ? n : -1) : clamp(e[i])
            let length = stride > 0 ? max(0, (stop - start + stride - 1) / stride) : max(0, (start - stop - stride - 1) / (0 &- stride))
            out.append(length)
            axis += 1
        }
        while axis < x.count { out.append(x[axis]); axis += 1 }
        return out
    }

    /// `axis` resolved against `rank`, or nil when outside it.
    private static func resolved(_ axis: Int, rank: Int) -> Int? {
        let r = axis < 0 ? axis + rank : axis
        return r >= 0 && r < rank ? r : nil
    }

    /// `axes` resolved against `rank`, each once; nil when one is outside it or repeats.
    private static func distinctAxes(_ axes: [Int], rank: Int) -> [Int]? {
        var out: [Int] = []
        for axis in axes {
            guard let r = resolved(axis, rank: rank), !out.contains(r) else { return nil }
            out.append(r)
        }
        return out
    }

    /// The product of `dims`, nil when it overflows.
    private static func product(_ dims: ArraySlice<Int>) -> Int? { ShapeInference.checkedProduct(Array(dims)) }

    /// The operands of one op: per ONNX input position, a node input (its shape and, for a
    /// constant, its elements), a weight, or nothing.
    struct Operands {
        let op: TensorOp
        let node: Node
        let inputs: [[Int]?]
        let values: [Tensor?]

        /// ONNX input positions the op has.
        var count: Int { op.arguments.count }

        /// Whether position `p` holds an operand (not left out).
        func isGiven(_ p: Int) -> Bool {
            guard p < op.arguments.count else { return false }
            if case .absent = op.arguments[p] { return false }
            return true
        }

        /// The shape of the operand at position `p`, when given and known.
        func shape(_ p: Int) -> [Int]? {
            guard p < op.arguments.count else { return nil }
            switch op.arguments[p] {
            case .value(let i): return i >= 0 && i < inputs.count ? inputs[i] : nil
            case .weight(let role): return node.weight(role)?.tensor.shape
            case .absent: return nil
            }
        }

        /// The elements of the operand at position `p`, when it is a constant.
        func value(_ p: Int) -> Tensor? {
            guard p < op.arguments.count else { return nil }
            switch op.arguments[p] {
            case .value(let i): return i >= 0 && i < values.count ? values[i] : nil
            case .weight(let role):
                guard let t = node.weight(role)?.tensor, !t.isDeferred else { return nil }
                return t
            case .absent: return nil
            }
        }

        /// The operand at position `p` as a list of integers: an integer constant of at most one
        /// dimension (as the op library reads shapes, axes and pads).
        func integers(_ p: Int) -> [Int]? {
            guard let t = value(p), t.rank <= 1, !t.dtype.isFloatingPoint, t.dtype != .bool, t.count <= 1 << 16 else { return nil }
            return t.integers().map { Int(truncatingIfNeeded: $0) }
        }

        /// The operand at position `p` as integers in element order, whatever its rank (as the
        /// op library reads the index operands of TensorFlow's ops).
        func flatIntegers(_ p: Int) -> [Int]? {
            guard let t = value(p), !t.dtype.isFloatingPoint, t.dtype != .bool, t.count <= 1 << 16 else { return nil }
            return t.integers().map { Int(truncatingIfNeeded: $0) }
        }

        /// Whether the attribute is present.
        func has(_ name: String) -> Bool { op.attributes[name] != nil }

        /// An INT attribute or `fallback`; a present attribute of another kind also gives `fallback`
        /// (the op refuses it when it runs).
        func int(_ name: String, _ fallback: Int) -> Int {
            if case .int(let v)? = op.attributes[name] { return v }
            return fallback
        }

        /// An INT attribute, `fallback` when absent, nil when it is of another kind (or absent
        /// without a fallback).
        func intOrNil(_ name: String, _ fallback: Int?) -> Int? {
            switch op.attributes[name] {
            case nil: return fallback
            case .int(let v)?: return v
            default: return nil
            }
        }

        /// An INTS attribute (a single INT read as one element), nil when absent.
        func intsAttribute(_ name: String) -> [Int]? {
            switch op.attributes[name] {
            case .ints(let v)?: return v
            case .int(let v)?: return [v]
            default: return nil
            }
        }
    }
}
