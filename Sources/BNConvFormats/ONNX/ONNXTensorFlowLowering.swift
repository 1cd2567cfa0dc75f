import BNConvCore
import BNConvModel

/// The op library's TensorFlow ops (`TF.` types, `TensorFlowOps` in BNConvOps) as ONNX nodes that
/// compute what TensorFlow computes (op definitions in tensorflow/core/ops/array_ops.cc,
/// math_ops.cc and nn_ops.cc; the kernels in BNConvOps are the reference the tests hold them to).
///
/// Nodes are made in opset 13's forms (axes, pads and starts as inputs) and upgraded to the
/// graph's opset with the rest (``ONNXOpsetUpgrade``); a reduction over axes computed at run time
/// needs opset 18's form and raises the graph to it. Operands ONNX reads as attributes (the
/// StridedSlice spec, SYMMETRIC pads, a convolution's group count) must be known when exporting:
/// constants, or the input's rank and channel count from ``ONNXExportFacts``.
struct ONNXTensorFlowLowering {
    /// What is known of the model's values.
    let facts: ONNXExportFacts

    /// The node being lowered, its op and its operands by position.
    private let node: Node
    private let op: TensorOp
    private let operands: [ONNXExportOperand]
    /// The nodes made so far.
    private var made: [ONNXExportNode] = []

    /// Prepares to lower `op` of `node`, whose operands (by ONNX input position) are `operands`.
    init(_ op: TensorOp, node: Node, operands: [ONNXExportOperand], facts: ONNXExportFacts) {
        self.op = op
        self.node = node
        self.operands = operands
        self.facts = facts
    }

    /// The op types this lowers.
    static let lowered: Set<String> = [
        "TF.Shape", "TF.Size", "TF.Rank", "TF.Pack", "TF.StridedSlice", "TF.Slice", "TF.Square", "TF.Rsqrt",
        "TF.SquaredDifference", "TF.DivNoNan", "TF.FloorDiv", "TF.BiasAdd", "TF.MirrorPad", "TF.IdentityN", "TF.ZerosLike",
        "TF.OnesLike", "TF.Fill", "TF.All", "TF.Any", "TF.Conv2D", "TF.DepthwiseConv2dNative",
    ]

    /// The ONNX nodes computing the op, writing the node's outputs; fresh tensor names come from
    /// `graph`. Throws ``ONNXExportRefusal`` when ONNX cannot express this use of the op.
    mutating func lower(graph: inout ONNXExportGraph) throws -> [ONNXExportNode] {
        let y = node.outputs.first ?? ""
        switch op.type {
        case "TF.Shape", "TF.Size":
            let outType = try dtypeAttribute("out_type", .int32)
            integerResult(op.type == "TF.Shape" ? "Shape" : "Size", x(0), y, outType, &graph)
        case "TF.Rank":
            let shape = graph.unique("\(y)__shape")
            add("Shape", [x(0)], [shape], suffix: "shape")
            integerResult("Size", .value(shape), y, .int32, &graph)
        case "TF.Pack":
            let axis = int("axis") ?? 0
            let parts = operands.filter { !$0.isAbsent }
            guard !parts.isEmpty else { throw ONNXExportRefusal("it packs no inputs") }
            if parts.count == 1 {
                add("Unsqueeze", [parts[0], .int64s([axis])], [y])
            } else {
                var expanded: [ONNXExportOperand] = []
                for (k, part) in parts.enumerated() {
                    let e = graph.unique("\(y)__part\(k)")
                    add("Unsqueeze", [part, .int64s([axis])], [e], suffix: "part\(k)")
                    expanded.append(.value(e))
                }
                add("Concat", expanded, [y], ["axis": .int(axis)])
            }
        case "TF.StridedSlice":
            try stridedSlice(y, &graph)
        case "TF.Slice":
            try slice(y, &graph)
        case "TF.Square":
            add("Mul", [x(0), x(0)], [y])
        case "TF.Rsqrt":
            let root = graph.unique("\(y)__sqrt")
            add("Sqrt", [x(0)], [root], suffix: "sqrt")
            add("Reciprocal", [.value(root)], [y])
        case "TF.SquaredDifference":
            let difference = graph.unique("\(y)__difference")
            add("Sub", [x(0), x(1)], [difference], suffix: "difference")
            add("Mul", [.value(difference), .value(difference)], [y])
        case "TF.DivNoNan":
            guard let dtype = dtype(of: x(1)) ?? dtype(of: x(0)) else { throw ONNXExportRefusal("its operands' type is unknown") }
            let zero = ONNXExportOperand.constant(Tensor(shape: [], doubles: [0], dtype: dtype))
            let quotient = graph.unique("\(y)__quotient"), isZero = graph.unique("\(y)__divisor_is_zero")
            add("Div", [x(0), x(1)], [quotient], suffix: "divide")
            add("Equal", [x(1), zero], [isZero], suffix: "divisor_is_zero")
            add("Where", [.value(isZero), zero, .value(quotient)], [y])
        case "TF.FloorDiv":
            guard let dtype = dtype(of: x(0)) ?? dtype(of: x(1)) else { throw ONNXExportRefusal("its operands' type is unknown") }
            if dtype.isFloatingPoint {
                let quotient = graph.unique("\(y)__quotient")
                add("Div", [x(0), x(1)], [quotient], suffix: "divide")
                add("Floor", [.value(quotient)], [y])
            } else {
                // ONNX's integer Div truncates: one less where the division leaves a remainder and
                // the operands' signs differ (as tf.math.floordiv rounds toward -infinity).
                let zero = ONNXExportOperand.constant(Tensor(shape: [], doubles: [0], dtype: dtype))
                let names = ["quotient", "product", "remainder", "exact", "inexact", "a_negative", "b_negative", "signs_differ",
                             "adjust", "adjust_number"].map { graph.unique("\(y)__\($0)") }
                let (q, p, r, exact, inexact, an, bn, differ, adjust, one) = (names[0], names[1], names[2], names[3], names[4], names[5],
                                                                              names[6], names[7], names[8], names[9])
                add("Div", [x(0), x(1)], [q], suffix: "divide")
                add("Mul", [.value(q), x(1)], [p], suffix: "product")
                add("Sub", [x(0), .value(p)], [r], suffix: "remainder")
                add("Equal", [.value(r), zero], [exact], suffix: "exact")
                add("Not", [.value(exact)], [inexact], suffix: "inexact")
                add("Less", [x(0), zero], [an], suffix: "a_negative")
                add("Less", [x(1), zero], [bn], suffix: "b_negative")
                add("Xor", [.value(an), .value(bn)], [differ], suffix: "signs_differ")
                add("And", [.value(inexact), .value(differ)], [adjust], suffix: "adjust")
                add("Cast", [.value(adjust)], [one], ["to": .int(ONNXExportAttributes.typeCode(dtype))], suffix: "adjust_number")
                add("Sub", [.value(q), .value(one)], [y])
            }
        case "TF.BiasAdd":
            let channelsFirst = (string("data_format") ?? "NHWC").hasPrefix("NC")
            let rank = rank(of: x(0))
            if channelsFirst && rank != 2 {
                guard let rank else { throw ONNXExportRefusal("a channels-first bias needs the value's rank, which is unknown") }
                let bias = graph.unique("\(y)__bias")
                add("Unsqueeze", [x(1), .int64s(Array(1...(rank - 2)))], [bias], suffix: "bias")
                add("Add", [x(0), .value(bias)], [y])
            } else {
                add("Add", [x(0), x(1)], [y])
            }
        case "TF.MirrorPad":
            try mirrorPad(y, &graph)
        case "TF.IdentityN":
            for (k, output) in node.outputs.enumerated() {
                add("Identity", [x(k)], [output], suffix: k == 0 ? nil : "\(k)")
            }
        case "TF.ZerosLike", "TF.OnesLike":
            let value: Double = op.type == "TF.ZerosLike" ? 0 : 1
            let shape = graph.unique("\(y)__shape")
            add("Shape", [x(0)], [shape], suffix: "shape")
            if let dtype = dtype(of: x(0)) {
                add("Expand", [.constant(Tensor(shape: [], doubles: [value], dtype: dtype)), .value(shape)], [y])
            } else {
                let filled = graph.unique("\(y)__filled")
                add("Expand", [.constant(Tensor(shape: [], doubles: [value], dtype: .float32)), .value(shape)], [filled], suffix: "fill")
                add("CastLike", [.value(filled), x(0)], [y])
            }
        case "TF.Fill":
            add("Expand", [x(1), try int64Operand(x(0), "dims", &graph)], [y])
        case "TF.All", "TF.Any":
            try logicalReduction(y, &graph)
        case "TF.Conv2D", "TF.DepthwiseConv2dNative":
            try convolution(y, &graph)
        default:
            throw ONNXExportRefusal("TensorFlow op '\(op.type.dropFirst(3))' (node '\(node.name)') has no ONNX export")
        }
        return made
    }

    // MARK: - Ops

    private mutating func stridedSlice(_ y: String, _ graph: inout ONNXExportGraph) throws {
        guard let begin = integers(x(1)), let end = integers(x(2)) else {
            throw ONNXExportRefusal("its begin and end are computed at run time (ONNX needs its masks resolved against constants)")
        }
        let strides: [Int]
        if operands.count > 3, !operands[3].isAbsent {
            guard let given = integers(operands[3]) else { throw ONNXExportRefusal("its strides are computed at run time") }
            strides = given
        } else {
            strides = Array(repeating: 1, count: begin.count)
        }
        let plan = try ONNXStridedSlicePlan(op: op, begin: begin, end: end, strides: strides, input: shape(of: x(0)))
        var current = x(0)
        let steps = (plan.slices.isEmpty ? 0 : 1) + (plan.shrunk.isEmpty ? 0 : 1) + (plan.inserted.isEmpty ? 0 : 1)
        var done = 0
        func output(_ what: String) -> String {
            done += 1
            return done == steps ? y : graph.unique("\(y)__\(what)")
        }
        if !plan.slices.isEmpty {
            let sliced = output("sliced")
            add("Slice", [current, .int64s(plan.slices.map(\.start)), .int64s(plan.slices.map(\.end)), .int64s(plan.slices.map(\.axis)),
                          .int64s(plan.slices.map(\.step))], [sliced], suffix: done == steps ? nil : "slice")
            current = .value(sliced)
        }
        if !plan.shrunk.isEmpty {
            let squeezed = output("shrunk")
            add("Squeeze", [current, .int64s(plan.shrunk)], [squeezed], suffix: done == steps ? nil : "shrink")
            current = .value(squeezed)
        }
        if !plan.inserted.isEmpty {
            add("Unsqueeze", [current, .int64s(plan.inserted)], [output("new_axes")])
        }
        if steps == 0 { add("Identity", [current], [y]) }
    }

    private mutating func slice(_ y: String, _ graph: inout ONNXExportGraph) throws {
        if let begin = integers(x(1)), let size = integers(x(2)) {
            guard begin.count == size.count else { throw ONNXExportRefusal("begin \(begin) and size \(size) differ in length") }
            let ends = zip(begin, size).map { b, s in s == -1 ? Int.max : b + s }
            add("Slice", [x(0), .int64s(begin), .int64s(ends), .int64s(Array(0..<begin.count))], [y])
            return
        }
        // Sizes known at run time: end = begin + size, or the axis's end where size is -1.
        let begin = try int64Operand(x(1), "begin", &graph), size = try int64Operand(x(2), "size", &graph)
        let sum = graph.unique("\(y)__end"), whole = graph.unique("\(y)__to_the_end"), ends = graph.unique("\(y)__ends")
        add("Add", [begin, size], [sum], suffix: "end")
        add("Equal", [size, .int64s([-1])], [whole], suffix: "to_the_end")
        add("Where", [.value(whole), .int64s([Int.max]), .value(sum)], [ends], suffix: "ends")
        add("Slice", [x(0), begin, .value(ends)], [y])
    }

    private mutating func mirrorPad(_ y: String, _ graph: inout ONNXExportGraph) throws {
        let symmetric = (string("mode") ?? "REFLECT") == "SYMMETRIC"
        guard let paddings = integers(x(1)) else {
            guard !symmetric else { throw ONNXExportRefusal("SYMMETRIC padding by amounts computed at run time") }
            // [[before, after] per axis] -> [befores..., afters...].
            let swapped = graph.unique("\(y)__pads_by_side"), flat = graph.unique("\(y)__pads_flat")
            add("Transpose", [x(1)], [swapped], ["perm": .ints([1, 0])], suffix: "pads_by_side")
            add("Reshape", [.value(swapped), .int64s([-1])], [flat], suffix: "pads_flat")
            add("Pad", [x(0), try int64Operand(.value(flat), "pads", &graph)], [y], ["mode": .string("reflect")])
            return
        }
        guard paddings.count % 2 == 0 else { throw ONNXExportRefusal("paddings \(paddings) are not [rank, 2]") }
        let rank = paddings.count / 2
        let before = (0..<rank).map { paddings[2 * $0] }, after = (0..<rank).map { paddings[2 * $0 + 1] }
        guard !symmetric else { return try symmetricPad(y, before: before, after: after, &graph) }
        add("Pad", [x(0), .int64s(before + after)], [y], ["mode": .string("reflect")])
    }

    /// SYMMETRIC (the edge repeated, which ONNX's reflect skips): per padded axis, the first
    /// `before` and last `after` elements reversed (Slice with step -1), concatenated around it.
    private mutating func symmetricPad(_ y: String, before: [Int], after: [Int], _ graph: inout ONNXExportGraph) throws {
        let padded = before.indices.filter { before[$0] != 0 || after[$0] != 0 }
        guard let last = padded.last else { return add("Identity", [x(0)], [y]) }
        var current = x(0)
        for axis in padded {
            let out = axis == last ? y : graph.unique("\(y)__axis\(axis)")
            var parts: [ONNXExportOperand] = []
            if before[axis] > 0 {
                let head = graph.unique("\(y)__axis\(axis)_before")
                add("Slice", [current, .int64s([before[axis] - 1]), .int64s([Int.min]), .int64s([axis]), .int64s([-1])], [head],
                    suffix: "axis\(axis)_before")
                parts.append(.value(head))
            }
            parts.append(current)
            if after[axis] > 0 {
                let tail = graph.unique("\(y)__axis\(axis)_after")
                add("Slice", [current, .int64s([-1]), .int64s([-1 - after[axis]]), .int64s([axis]), .int64s([-1])], [tail],
                    suffix: "axis\(axis)_after")
                parts.append(.value(tail))
            }
            add("Concat", parts, [out], ["axis": .int(axis)], suffix: axis == last ? nil : "axis\(axis)")
            current = .value(out)
        }
    }

    /// `tf.reduce_all` / `tf.reduce_any`: the bools as int32, their minimum / maximum, back to bool.
    /// An empty axes list reduces nothing (TensorFlow), so it is an Identity.
    private mutating func logicalReduction(_ y: String, _ graph: inout ONNXExportGraph) throws {
        let keep = int("keep_dims") ?? 0
        let reduce = op.type == "TF.All" ? "ReduceMin" : "ReduceMax"
        let axesOperand = operands.count > 1 ? operands[1] : .absent
        let axes = axesOperand.isAbsent ? nil : integers(axesOperand)
        if let axes, axes.isEmpty { return add("Identity", [x(0)], [y]) }
        let numbers = graph.unique("\(y)__as_int32"), reduced = graph.unique("\(y)__reduced")
        add("Cast", [x(0)], [numbers], ["to": .int(6)], suffix: "as_int32")
        if axesOperand.isAbsent || axes != nil {
            var attributes: [String: OpAttribute] = ["keepdims": .int(keep)]
            if let axes { attributes["axes"] = .ints(axes) }
            add(reduce, [.value(numbers)], [reduced], attributes, suffix: "reduce")
        } else {
            let axesInput = try int64Operand(axesOperand, "axes", &graph)
            add(reduce, [.value(numbers), axesInput], [reduced], ["keepdims": .int(keep), "noop_with_empty_axes": .int(1)],
                suffix: "reduce", opset: 18)
        }
        add("Cast", [.value(reduced)], [y], ["to": .int(9)])
    }

    /// Conv2D / DepthwiseConv2dNative whose filter the graph computes: ONNX Conv on NCHW with the
    /// filter from HWIO (depthwise: HWCM, one group per input channel) to OIHW, and the value moved
    /// to and from NHWC around it unless `data_format` is NCHW.
    private mutating func convolution(_ y: String, _ graph: inout ONNXExportGraph) throws {
        let depthwise = op.type == "TF.DepthwiseConv2dNative"
        let channelsFirst = (string("data_format") ?? "NHWC").hasPrefix("NC")
        let spatial = channelsFirst ? [2, 3] : [1, 2]
        let strides = ints("strides") ?? [1, 1, 1, 1], dilations = ints("dilations") ?? [1, 1, 1, 1]
        guard strides.count == 4, dilations.count == 4 else {
            throw ONNXExportRefusal("strides \(strides) and dilations \(dilations) must have 4 entries")
        }
        var attributes: [String: OpAttribute] = ["strides": .ints(spatial.map { strides[$0] }), "dilations": .ints(spatial.map { dilations[$0] })]
        switch string("padding") ?? "VALID" {
        case "SAME": attributes["auto_pad"] = .string("SAME_UPPER")
        case "VALID": attributes["auto_pad"] = .string("VALID")
        case "EXPLICIT":
            let p = ints("explicit_paddings") ?? []
            guard p.count == 8 else { throw ONNXExportRefusal("explicit_paddings \(p) must have 8 entries") }
            attributes["pads"] = .ints([p[2 * spatial[0]], p[2 * spatial[1]], p[2 * spatial[0] + 1], p[2 * spatial[1] + 1]])
        case let other: throw ONNXExportRefusal("padding '\(other)'")
        }
        // The channel count fixes the group count, an attribute.
        let filterShape = shape(of: x(1))
        guard filterShape == nil || filterShape!.count == 4 else { throw ONNXExportRefusal("its filter is not 4-D") }
        let inputChannels = shape(of: x(0)).flatMap { $0.count == 4 ? $0[channelsFirst ? 1 : 3] : nil }
        if depthwise {
            guard let channels = filterShape?[2] ?? inputChannels else {
                throw ONNXExportRefusal("its group count needs the input's channel count, which is unknown")
            }
            attributes["group"] = .int(channels)
        } else {
            guard let channels = inputChannels, let perGroup = filterShape?[2], perGroup > 0, channels % perGroup == 0 else {
                throw ONNXExportRefusal("its group count needs the input's and the filter's channel counts, which are unknown")
            }
            attributes["group"] = .int(channels / perGroup)
        }
        // The value in NCHW.
        var value = x(0)
        if !channelsFirst {
            let moved = graph.unique("\(y)__nchw_input")
            add("Transpose", [value], [moved], ["perm": .ints([0, 3, 1, 2])], suffix: "to_nchw")
            value = .value(moved)
        }
        // The filter as OIHW, in the value's type.
        let valueType = dtype(of: x(0))
        var weight: ONNXExportOperand
        if case .constant(let f) = x(1) {
            var w = try f.materialized().transposed(depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1])
            if depthwise { w = try w.reshaped([w.shape[0] * w.shape[1], 1, w.shape[2], w.shape[3]]) }
            if let valueType, valueType != w.dtype { w = w.converted(to: valueType) }
            weight = .constant(w)
        } else {
            let oihw = graph.unique("\(y)__filter_oihw")
            add("Transpose", [x(1)], [oihw], ["perm": .ints(depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1])], suffix: "filter")
            weight = .value(oihw)
            if depthwise {
                let grouped = graph.unique("\(y)__filter_grouped")
                add("Reshape", [weight, .int64s([-1, 1, 0, 0])], [grouped], suffix: "filter_grouped")
                weight = .value(grouped)
            }
            let filterType = dtype(of: x(1))
            if valueType == nil || filterType == nil || valueType != filterType {
                let cast = graph.unique("\(y)__filter_cast")
                add("CastLike", [weight, value], [cast], suffix: "filter_cast")
                weight = .value(cast)
            }
        }
        if channelsFirst {
            add("Conv", [value, weight], [y], attributes)
        } else {
            let result = graph.unique("\(y)__nchw")
            add("Conv", [value, weight], [result], attributes, suffix: "conv")
            add("Transpose", [.value(result)], [y], ["perm": .ints([0, 2, 3, 1])])
        }
    }

    // MARK: - Helpers

    /// Operand `k`.
    private func x(_ k: Int) -> ONNXExportOperand { k < operands.count ? operands[k] : .absent }

    /// Appends a node in opset `opset`'s form; the one writing the op's output keeps the node's
    /// name, the others get `suffix` after it.
    private mutating func add(_ type: String, _ inputs: [ONNXExportOperand], _ outputs: [String],
                              _ attributes: [String: OpAttribute] = [:], suffix: String? = nil, opset: Int = 13) {
        made.append(ONNXExportNode(type, name: suffix.map { "\(node.name)/\($0)" } ?? node.name, opset: opset,
                                   inputs: inputs, outputs: outputs, attributes: attributes))
    }

    /// An int64 result of `type` (Shape, Size) on `x`, cast to `dtype` when TensorFlow asks for another.
    private mutating func integerResult(_ type: String, _ x: ONNXExportOperand, _ y: String, _ dtype: DType,
                                        _ graph: inout ONNXExportGraph) {
        guard dtype != .int64 else { return add(type, [x], [y]) }
        let code = ONNXExportAttributes.typeCode(dtype)
        let wide = graph.unique("\(y)__int64")
        add(type, [x], [wide], suffix: type.lowercased())
        add("Cast", [.value(wide)], [y], ["to": .int(code)])
    }

    /// `operand` as int64 (ONNX's type for shapes, axes and pads): a constant converted, a value
    /// of another type cast.
    private mutating func int64Operand(_ operand: ONNXExportOperand, _ what: String, _ graph: inout ONNXExportGraph) throws -> ONNXExportOperand {
        switch operand {
        case .constant(let t):
            return .int64s(t.integers().map { Int(truncatingIfNeeded: $0) })
        case .value(let v):
            if facts.dtype(v) == .int64 { return operand }
            let cast = graph.unique("\(v)__int64")
            add("Cast", [operand], [cast], ["to": .int(7)], suffix: "\(what)_int64")
            return .value(cast)
        case .absent:
            throw ONNXExportRefusal("its \(what) input is missing")
        }
    }

    private func integers(_ operand: ONNXExportOperand) -> [Int]? {
        switch operand {
        case .constant(let t): return t.integers().map { Int(truncatingIfNeeded: $0) }
        case .value(let v): return facts.integers(v)
        case .absent: return nil
        }
    }

    private func dtype(of operand: ONNXExportOperand) -> DType? {
        switch operand {
        case .constant(let t): return t.dtype
        case .value(let v): return facts.dtype(v)
        case .absent: return nil
        }
    }

    private func shape(of operand: ONNXExportOperand) -> [Int?]? {
        switch operand {
        case .constant(let t): return t.shape.map { $0 }
        case .value(let v): return facts.shape(v)
        case .absent: return nil
        }
    }

    private func rank(of operand: ONNXExportOperand) -> Int? { shape(of: operand)?.count }

    private func int(_ name: String) -> Int? { if case .int(let v)? = op.attributes[name] { return v } else { return nil } }

    private func ints(_ name: String) -> [Int]? {
        switch op.attributes[name] {
        case .ints(let v)?: return v
        case .int(let v)?: return [v]
        default: return nil
        }
    }

    private func string(_ name: String) -> String? { if case .string(let v)? = op.attributes[name] { return v } else { return nil } }

    private func dtypeAttribute(_ name: String, _ fallback: DType) throws -> DType {
        guard let raw = string(name) else { return fallback }
        guard let dtype = DType(rawValue: raw) else { throw ONNXExportRefusal("\(name) '\(raw)'") }
        return dtype
    }
}
