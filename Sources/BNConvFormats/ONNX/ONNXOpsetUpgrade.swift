import BNConvCore
import BNConvModel

/// Rewrites an ONNX node written for an older opset into the form of a newer one, one signature
/// change at a time (the versions of ``ONNXOpsetHistory``; what each changed from onnx/onnx
/// `docs/Changelog.md` and `docs/Operators.md`).
///
/// A version with no entry in ``steps`` changed only the types an op accepts or added attributes
/// whose defaults keep the old behaviour, and the node passes it unchanged. A step that cannot
/// express a node in the new form refuses it: "ONNX Squeeze of opset 11 cannot be upgraded to
/// opset 17: ...".
enum ONNXOpsetUpgrade {
    /// A node under upgrade, and the nodes a step puts before and after it (in the form of the
    /// step's version; they are upgraded further like the node).
    struct Work {
        /// The node.
        var node: ONNXExportNode
        /// Nodes computing what the node now reads.
        var before: [ONNXExportNode] = []
        /// Nodes turning what the node now writes into its former outputs.
        var after: [ONNXExportNode] = []
    }

    /// One signature change applied to a node of the version before; `graph` hands out fresh
    /// tensor names, `facts` gives what is known of the model's values.
    typealias Step = @Sendable (_ work: inout Work, _ graph: inout ONNXExportGraph, _ facts: ONNXExportFacts) throws -> Void

    /// `node` (in the form of `node.opset`) in the form of opset `target`, with the nodes it now
    /// needs around it, in order. A node already at or past `target` is returned as it is.
    static func upgrade(_ node: ONNXExportNode, to target: Int, graph: inout ONNXExportGraph,
                        facts: ONNXExportFacts) throws -> [ONNXExportNode] {
        guard node.opset < target else { return [finalized(node)] }
        guard ONNXOpsetHistory.versions[node.type] != nil else {
            throw refusal(node, target, "bnconv does not know the signature changes of \(node.type)")
        }
        let (type, opset) = (node.type, node.opset)
        var node = node
        var before: [ONNXExportNode] = [], after: [ONNXExportNode] = []
        while let next = ONNXOpsetHistory.changes(of: node.type, after: node.opset, through: target).first {
            if let step = steps["\(node.type)@\(next)"] {
                var work = Work(node: node)
                do {
                    try step(&work, &graph, facts)
                } catch let r as ONNXExportRefusal {
                    throw ONNXOpsetUpgradeError(type: type, from: opset, to: target, node: node.name, reason: r.reason)
                }
                for extra in work.before { before += try upgrade(extra, to: target, graph: &graph, facts: facts) }
                for extra in work.after { after += try upgrade(extra, to: target, graph: &graph, facts: facts) }
                node = work.node
            }
            node.opset = next
        }
        node.opset = target
        return before + [finalized(node)] + after
    }

    /// The error for `node` that cannot reach `target`.
    static func refusal(_ node: ONNXExportNode, _ target: Int, _ reason: String) -> ONNXOpsetUpgradeError {
        ONNXOpsetUpgradeError(type: node.type, from: node.opset, to: target, node: node.name, reason: reason)
    }

    /// `node` without the attributes bnconv's readers add that its version does not have:
    /// Split's `num_outputs` before opset 18 (the ONNX reader records the part count there).
    private static func finalized(_ node: ONNXExportNode) -> ONNXExportNode {
        var node = node
        if node.type == "Split", (ONNXOpsetHistory.formVersion(of: "Split", at: node.opset) ?? 0) < 18 {
            node.attributes["num_outputs"] = nil
        }
        return node
    }

    // MARK: - The steps

    /// The steps by "Op@version".
    static let steps: [String: Step] = {
        var all: [String: Step] = [:]
        // Opset 6 removed the legacy `consumed_inputs` hint (no effect on what ops compute).
        for op in ["Abs", "Add", "BatchNormalization", "Ceil", "Clip", "Div", "Dropout", "Elu", "Exp", "Floor", "HardSigmoid",
                   "InstanceNormalization", "LeakyRelu", "Log", "Max", "Mean", "Min", "Mul", "Neg", "PRelu", "Reciprocal",
                   "Relu", "Selu", "Sigmoid", "Sqrt", "Sub", "Sum", "Tanh"] {
            all["\(op)@6"] = { work, _, _ in work.node.attributes["consumed_inputs"] = nil }
        }
        // Opset 7 replaced `broadcast` / `axis` by NumPy broadcasting.
        for op in ["Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "Less", "And", "Or", "Xor"] {
            all["\(op)@7"] = legacyBroadcast
        }
        all["Gemm@7"] = { work, _, _ in work.node.attributes["broadcast"] = nil }
        all["Concat@4"] = { work, _, _ in
            // `axis` became required; before, 1 was the default.
            if work.node.attributes["axis"] == nil { work.node.attributes["axis"] = .int(1) }
        }
        all["Cast@6"] = castTypeCode
        all["BatchNormalization@7"] = { work, _, _ in work.node.attributes["is_test"] = nil }
        all["BatchNormalization@9"] = { work, _, _ in
            if let spatial = work.node.takeInts("spatial")?.first, spatial != 1 {
                throw ONNXExportRefusal("spatial=0 (statistics per element, not per channel) has no later form")
            }
        }
        all["BatchNormalization@14"] = { work, _, _ in
            if work.node.outputs.count > 1 { throw ONNXExportRefusal("it writes its running statistics, which opset 14 writes only in training mode") }
        }
        all["Dropout@7"] = { work, _, _ in work.node.attributes["is_test"] = nil }
        all["Dropout@12"] = { work, _, _ in
            // The ratio moved to input 1 (a float scalar); at inference it changes nothing.
            if let ratio = work.node.takeDoubles("ratio")?.first {
                work.node.setInput(1, .constant(Tensor(shape: [], doubles: [ratio], dtype: .float32)))
            }
        }
        all["Clip@11"] = clipBoundsAsInputs
        all["Pad@2"] = { work, _, _ in
            if let paddings = work.node.takeInts("paddings") { work.node.attributes["pads"] = .ints(paddings) }
        }
        all["Pad@11"] = padsAsInputs
        all["Reshape@5"] = { work, _, _ in
            guard let shape = work.node.takeInts("shape") else { throw ONNXExportRefusal("it has no 'shape' attribute") }
            work.node.setInput(1, .int64s(shape))
        }
        all["Slice@10"] = { work, _, _ in
            guard let starts = work.node.takeInts("starts"), let ends = work.node.takeInts("ends") else {
                throw ONNXExportRefusal("it lacks its 'starts' or 'ends' attribute")
            }
            work.node.setInput(1, .int64s(starts))
            work.node.setInput(2, .int64s(ends))
            if let axes = work.node.takeInts("axes") { work.node.setInput(3, .int64s(axes)) }
        }
        all["Squeeze@13"] = axesAsInput(required: false)
        all["Unsqueeze@13"] = axesAsInput(required: true)
        all["ReduceSum@13"] = axesAsInput(required: false)
        for op in ["ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
                   "ReduceSumSquare"] {
            all["\(op)@18"] = axesAsInput(required: false)
        }
        all["Split@2"] = { work, _, facts in
            // Opset 1's optional `split` input became the attribute.
            switch work.node.input(1) {
            case .absent: break
            case .constant(let sizes): work.node.attributes["split"] = .ints(sizes.integers().map { Int(truncatingIfNeeded: $0) })
            case .value(let v):
                guard let sizes = facts.integers(v) else {
                    throw ONNXExportRefusal("its split sizes are computed at run time, and opset 2 takes them as an attribute")
                }
                work.node.attributes["split"] = .ints(sizes)
            }
            work.node.inputs = Array(work.node.inputs.prefix(1))
        }
        all["Split@13"] = { work, _, _ in
            if let split = work.node.takeInts("split") { work.node.setInput(1, .int64s(split)) }
        }
        all["Split@18"] = { work, _, _ in
            // Without sizes, opset 18 needs the part count.
            if work.node.input(1).isAbsent && work.node.attributes["num_outputs"] == nil {
                work.node.attributes["num_outputs"] = .int(work.node.outputs.count)
            }
        }
        all["Tile@6"] = { _, _, _ in throw ONNXExportRefusal("its 'tiles' and 'axis' inputs have no later form in bnconv") }
        for op in ["Softmax", "LogSoftmax", "Hardmax"] { all["\(op)@13"] = singleAxisNormalization }
        all["Upsample@7"] = { work, _, _ in
            guard let h = work.node.takeDoubles("height_scale")?.first, let w = work.node.takeDoubles("width_scale")?.first else {
                throw ONNXExportRefusal("it lacks 'height_scale' or 'width_scale'")
            }
            work.node.attributes["scales"] = .floats([1, 1, h, w])
            if work.node.string("mode") == "bilinear" { work.node.attributes["mode"] = .string("linear") }
        }
        all["Upsample@9"] = { work, _, _ in
            guard let scales = work.node.takeDoubles("scales") else { throw ONNXExportRefusal("it has no 'scales' attribute") }
            work.node.setInput(1, .constant(Tensor(shape: [scales.count], doubles: scales, dtype: .float32)))
        }
        all["Upsample@10"] = { work, _, _ in
            // Deprecated at 10 in favour of Resize, whose opset-10 form is Upsample's.
            if work.node.string("mode") == "bilinear" { work.node.attributes["mode"] = .string("linear") }
            work.node.type = "Resize"
        }
        all["Resize@11"] = resizeCoordinates
        all["Resize@13"] = resizeWithoutTFHalfPixel
        all["GroupNormalization@21"] = { _, _, _ in
            throw ONNXExportRefusal("its scale and bias change from one value per group to one per channel")
        }
        return all
    }()

    /// Opset 7: `broadcast=1` with `axis` lined B's axes up from `axis` of A; NumPy broadcasting
    /// lines them up from the end, so B gets trailing axes of size 1.
    private static let legacyBroadcast: Step = { work, graph, facts in
        let axis = work.node.takeInts("axis")?.first
        let broadcast = work.node.takeInts("broadcast")?.first ?? 0
        guard broadcast != 0, let axis else { return }
        func rank(_ operand: ONNXExportOperand) -> Int? {
            switch operand {
            case .value(let v): return facts.rank(v)
            case .constant(let t): return t.rank
            case .absent: return nil
            }
        }
        guard let rankA = rank(work.node.input(0)), let rankB = rank(work.node.input(1)) else {
            throw ONNXExportRefusal("broadcast along axis \(axis) needs both operands' ranks, which are unknown")
        }
        let start = axis < 0 ? axis + rankA : axis
        let trailing = rankA - start - rankB
        guard start >= 0, trailing >= 0 else { throw ONNXExportRefusal("broadcast axis \(axis) does not fit ranks \(rankA) and \(rankB)") }
        guard trailing > 0 else { return }
        switch work.node.input(1) {
        case .constant(let b):
            work.node.setInput(1, .constant(try b.reshaped(b.shape + Array(repeating: 1, count: trailing))))
        case .value(let b):
            let widened = graph.unique("\(b)__broadcast_for_\(work.node.name)")
            work.before.append(ONNXExportNode("Unsqueeze", name: "\(work.node.name)/broadcast", opset: 6, inputs: [.value(b)],
                                              outputs: [widened], attributes: ["axes": .ints(Array(rankB..<(rankB + trailing)))]))
            work.node.setInput(1, .value(widened))
        case .absent:
            break
        }
    }

    /// Opset 6: Cast's `to` became the TensorProto data type code instead of its name.
    private static let castTypeCode: Step = { work, _, _ in
        guard case .string(let name)? = work.node.attributes["to"] else { return }
        // onnx.proto TensorProto.DataType.
        let codes = ["FLOAT": 1, "UINT8": 2, "INT8": 3, "UINT16": 4, "INT16": 5, "INT32": 6, "INT64": 7, "STRING": 8, "BOOL": 9,
                     "FLOAT16": 10, "DOUBLE": 11, "UINT32": 12, "UINT64": 13, "COMPLEX64": 14, "COMPLEX128": 15, "BFLOAT16": 16]
        guard let code = codes[name.uppercased()] else { throw ONNXExportRefusal("'to' names no ONNX type: '\(name)'") }
        work.node.attributes["to"] = .int(code)
    }

    /// Opset 11: Clip's `min` and `max` attributes became inputs 1 and 2, of the input's type.
    private static let clipBoundsAsInputs: Step = { work, _, facts in
        let low = work.node.takeDoubles("min")?.first, high = work.node.takeDoubles("max")?.first
        guard low != nil || high != nil else { return }
        guard let x = work.node.input(0).valueName, let dtype = facts.dtype(x) else {
            throw ONNXExportRefusal("its bounds become inputs of the input's type, which is unknown")
        }
        if let low { work.node.setInput(1, .constant(Tensor(shape: [], doubles: [low], dtype: dtype))) }
        if let high { work.node.setInput(2, .constant(Tensor(shape: [], doubles: [high], dtype: dtype))) }
    }

    /// Opset 11: Pad's `pads` became input 1 (int64) and `value` input 2 (of the data's type).
    private static let padsAsInputs: Step = { work, _, facts in
        guard let pads = work.node.takeInts("pads") else { throw ONNXExportRefusal("it has no 'pads' attribute") }
        work.node.setInput(1, .int64s(pads))
        let value = work.node.takeDoubles("value")?.first ?? 0
        guard value != 0 else { return }
        guard let x = work.node.input(0).valueName, let dtype = facts.dtype(x) else {
            throw ONNXExportRefusal("its fill value becomes an input of the data's type, which is unknown")
        }
        work.node.setInput(2, .constant(Tensor(shape: [], doubles: [value], dtype: dtype)))
    }

    /// The `axes` attribute moved to input 1 (int64); `required`: the op cannot do without it.
    private static func axesAsInput(required: Bool) -> Step {
        { work, _, _ in
            if let axes = work.node.takeInts("axes") {
                work.node.setInput(1, .int64s(axes))
            } else if required {
                throw ONNXExportRefusal("it has no 'axes' attribute")
            }
        }
    }

    /// Opset 13: Softmax, LogSoftmax and Hardmax act along one axis; before, the input was seen
    /// as 2-D, flattened from `axis` (default 1) on. Along the last axis the two agree; otherwise
    /// the node runs on the Flatten and its output is reshaped back to the input's shape.
    private static let singleAxisNormalization: Step = { work, graph, facts in
        let axis = work.node.int("axis") ?? 1
        guard let x = work.node.input(0).valueName else { throw ONNXExportRefusal("its input is a constant") }
        if let rank = facts.rank(x), axis == rank - 1 || axis == -1 {
            work.node.attributes["axis"] = .int(-1)
            return
        }
        let name = work.node.name
        let flat = graph.unique("\(x)__flattened_for_\(name)"), shape = graph.unique("\(x)__shape_for_\(name)")
        let output = work.node.outputs[0], flatOutput = graph.unique("\(output)__flattened")
        work.before = [
            ONNXExportNode("Flatten", name: "\(name)/flatten", opset: 13, inputs: [.value(x)], outputs: [flat], attributes: ["axis": .int(axis)]),
            ONNXExportNode("Shape", name: "\(name)/shape", opset: 13, inputs: [.value(x)], outputs: [shape]),
        ]
        work.node.setInput(0, .value(flat))
        work.node.attributes["axis"] = .int(1)
        work.node.outputs[0] = flatOutput
        work.after = [ONNXExportNode("Reshape", name: "\(name)/unflatten", opset: 13, inputs: [.value(flatOutput), .value(shape)],
                                     outputs: [output])]
    }

    /// Opset 11: Resize takes (X, roi, scales, sizes) and names its coordinate mapping; opset 10's
    /// is `asymmetric`, and its nearest rounding goes down when an axis grows and up when it
    /// shrinks (the op library's reading), which one `nearest_mode` expresses only when every
    /// scale grows (`floor`) or every scale shrinks (`ceil`).
    private static let resizeCoordinates: Step = { work, _, facts in
        var scales = work.node.input(1)
        if let v = scales.valueName, let known = facts.constant(v) { scales = .constant(known) }
        work.node.inputs = [work.node.input(0), .constant(Tensor(shape: [0], doubles: [], dtype: .float32)), scales]
        work.node.attributes["coordinate_transformation_mode"] = .string("asymmetric")
        guard (work.node.string("mode") ?? "nearest") == "nearest" else { return }
        guard case .constant(let t) = scales else {
            throw ONNXExportRefusal("nearest resizing by scales computed at run time: opset 10 rounds down where an axis grows and up where it shrinks, which no later nearest_mode says for scales unknown in advance")
        }
        let values = t.doubles()
        if values.allSatisfy({ $0 >= 1 }) {
            work.node.attributes["nearest_mode"] = .string("floor")
        } else if values.allSatisfy({ $0 <= 1 }) {
            work.node.attributes["nearest_mode"] = .string("ceil")
        } else {
            throw ONNXExportRefusal("nearest resizing that grows some axes and shrinks others (scales \(values)): opset 10 rounds each its own way, later opsets one way for all")
        }
    }

    /// Opset 13 removed `tf_half_pixel_for_nn` (`x_original = (x + 0.5) / scale`, then nearest_mode).
    /// With `half_pixel` (`(x + 0.5) / scale - 0.5`) the same index is `round_prefer_ceil` of it
    /// where the old rounding was `floor`, and `ceil` of it where it was `round_prefer_floor`.
    private static let resizeWithoutTFHalfPixel: Step = { work, _, _ in
        guard work.node.string("coordinate_transformation_mode") == "tf_half_pixel_for_nn" else { return }
        guard (work.node.string("mode") ?? "nearest") == "nearest" else {
            throw ONNXExportRefusal("coordinate_transformation_mode 'tf_half_pixel_for_nn' with mode '\(work.node.string("mode") ?? "")'")
        }
        let rounding = work.node.string("nearest_mode") ?? "round_prefer_floor"
        let equivalent = ["floor": "round_prefer_ceil", "round_prefer_floor": "ceil"]
        guard let mode = equivalent[rounding] else {
            throw ONNXExportRefusal("coordinate_transformation_mode 'tf_half_pixel_for_nn' with nearest_mode '\(rounding)' has no later equivalent")
        }
        work.node.attributes["coordinate_transformation_mode"] = .string("half_pixel")
        work.node.attributes["nearest_mode"] = .string(mode)
    }
}

/// An ONNX node bnconv cannot rewrite in the exported graph's opset.
struct ONNXOpsetUpgradeError: Error, CustomStringConvertible {
    /// The op type, and the opset its form follows.
    let type: String
    let from: Int
    /// The graph's opset.
    let to: Int
    /// The node.
    let node: String
    /// Why.
    let reason: String

    var description: String { "ONNX \(type) of opset \(from) cannot be upgraded to opset \(to): \(reason)" }
}
