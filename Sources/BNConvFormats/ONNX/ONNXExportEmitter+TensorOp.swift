import BNConvCore
import BNConvModel

/// Op-library nodes (``Op/tensor(_:)``) in the exported graph.
///
/// A plain ONNX op is written as itself, its attributes as `AttributeProto`s and its constant
/// operands as initializers (integers as they are; a float constant of an op whose operands share
/// one type in that of its float value operand), an absent optional input as `""`, upgraded from
/// its opset to the graph's by ``ONNXOpsetUpgrade``. A TensorFlow op (`TF.` type) is lowered by
/// ``ONNXTensorFlowLowering``. A `Const` (an Identity of a weight) becomes an initializer named as
/// its value, `Constant` likewise, `ConstantOfShape` an `Expand` of its fill value (bnconv writes
/// no TENSOR attributes). Operands ONNX wants as int64 (axes, shapes, pads, repeats, split sizes)
/// are converted or cast when they are of another integer type, as TensorFlow's int32 ones are.
extension ONNXExportEmitter {
    /// Writes op-library node `node` running `op`.
    mutating func tensorOp(_ node: Node, _ op: TensorOp) throws {
        do {
            let operands = try self.operands(of: op, node)
            if op.type.hasPrefix("TF.") {
                var lowering = ONNXTensorFlowLowering(op, node: node, operands: operands, facts: facts)
                for made in try lowering.lower(graph: &graph) { try writeUpgraded(made) }
                return
            }
            if try constant(node, op, operands) { return }
            try writeUpgraded(ONNXExportNode(op.type, name: node.name, opset: op.opset, inputs: operands, outputs: node.outputs,
                                             attributes: op.attributes))
        } catch let refusal as ONNXExportRefusal {
            if refusal.reason.hasPrefix("TensorFlow op ") {
                throw CheckpointError(.unsupported, file: file, place: node.name, problem: refusal.reason)
            }
            throw refuse(node, refusal.reason)
        } catch let upgrade as ONNXOpsetUpgradeError {
            throw CheckpointError(.unsupported, file: file, place: node.name, problem: upgrade.description)
        }
    }

    /// The operands of `op` on `node` by ONNX input position (weights loaded).
    private func operands(of op: TensorOp, _ node: Node) throws -> [ONNXExportOperand] {
        try op.arguments.map { argument in
            switch argument {
            case .value(let i):
                guard i < node.inputs.count else { throw ONNXExportRefusal("it reads input \(i) of \(node.inputs.count)") }
                return .value(node.inputs[i])
            case .weight(let role):
                guard let w = node.weight(role) else { throw ONNXExportRefusal("it has no '\(role)' weight") }
                return .constant(try w.tensor.materialized())
            case .absent:
                return .absent
            }
        }
    }

    /// Writes a node that only gives a constant (a Const, `Constant`, `ConstantOfShape`); false
    /// for any other node.
    private mutating func constant(_ node: Node, _ op: TensorOp, _ operands: [ONNXExportOperand]) throws -> Bool {
        guard let y = node.outputs.first else { return false }
        var value: Tensor?
        switch op.type {
        case "Identity":
            // A Const, or an Identity of one (TensorFlow's Identity after a Const).
            switch operands.first {
            case .constant(let t)? where operands.count == 1: value = t
            case .value(let v)? where operands.count == 1: value = constantValues[v]
            default: return false
            }
        case "Constant":
            value = try Self.constantValue(op.attributes)
        case "ConstantOfShape":
            // The fill value (a one-element tensor, float32 0 by default) broadcast to the shape.
            var fill = Tensor(shape: [], doubles: [0], dtype: .float32)
            if case .tensor(let t)? = op.attributes["value"] { fill = try t.materialized().reshaped([]) }
            try writeUpgraded(ONNXExportNode("Expand", name: node.name, opset: 13, inputs: [.constant(fill), operands.first ?? .absent],
                                             outputs: [y]))
            return true
        default:
            return false
        }
        guard let value else { return false }
        if model.outputs.contains(y) {
            let stored = graph.constant("\(y)__value", value)
            graph.add("Identity", name: node.name, inputs: [stored], outputs: [y], since: 14)
        } else if consumed.contains(y) {
            // Written at the end if a node of the graph reads it (a StridedSlice's begin, read
            // while lowering, is not).
            constantValues[y] = value
        }
        return true
    }

    /// The tensor a `Constant` node holds (`value`, `value_float(s)`, `value_int(s)`).
    private static func constantValue(_ attributes: [String: OpAttribute]) throws -> Tensor {
        switch (attributes["value"], attributes["value_float"], attributes["value_floats"], attributes["value_int"], attributes["value_ints"]) {
        case (.tensor(let t)?, _, _, _, _): return try t.materialized()
        case (_, .float(let v)?, _, _, _): return Tensor(shape: [], doubles: [v], dtype: .float32)
        case (_, _, .floats(let v)?, _, _): return Tensor(shape: [v.count], doubles: v, dtype: .float32)
        case (_, _, _, .int(let v)?, _): return ONNXExportOperand.int64Tensor([v], shape: [])
        case (_, _, _, _, .ints(let v)?): return ONNXExportOperand.int64Tensor(v, shape: [v.count])
        default: throw ONNXExportRefusal("it holds no tensor, number or list of numbers (strings and sparse tensors are not written)")
        }
    }

    /// Upgrades `node` to the graph's opset and writes it with whatever the upgrade put around it.
    mutating func writeUpgraded(_ node: ONNXExportNode) throws {
        for made in try ONNXOpsetUpgrade.upgrade(node, to: target, graph: &graph, facts: facts) {
            try write(made)
        }
    }

    /// Writes `node` as it is (its form's opset raises the graph's when newer). An Identity of a
    /// constant (an IdentityN passing swish's beta on) is that constant, written at the end if read.
    private mutating func write(_ node: ONNXExportNode) throws {
        if node.type == "Identity", node.inputs.count == 1, node.outputs.count == 1, !model.outputs.contains(node.outputs[0]) {
            switch node.inputs[0] {
            case .constant(let t): constantValues[node.outputs[0]] = t; return
            case .value(let v) where constantValues[v] != nil: constantValues[node.outputs[0]] = constantValues[v]; return
            default: break
            }
        }
        let form = ONNXOpsetHistory.formVersion(of: node.type, at: node.opset) ?? node.opset
        let facts = self.facts
        let reference = node.inputs.compactMap { $0.valueName }.compactMap { facts.dtype($0) }.first { $0.isFloatingPoint }
        let int64Positions = Self.int64Positions(node.type, form: form)
        var inputs: [String] = []
        for (position, operand) in node.inputs.enumerated() {
            switch operand {
            case .value(let v):
                if int64Positions.contains(position), let value = constantValues[v], value.dtype != .int64 || value.rank != 1,
                   !value.dtype.isFloatingPoint {
                    // A Const of another integer type, or a scalar: its own 1-D int64 copy.
                    let wide = ONNXExportOperand.int64Tensor(value.integers().map { Int(truncatingIfNeeded: $0) }, shape: [value.count])
                    inputs.append(graph.constant("\(v)__int64", wide))
                } else if int64Positions.contains(position), let type = facts.dtype(v), !type.isFloatingPoint,
                          type != .int64 || facts.rank(v) != 1 {
                    // A vector of ONNX's int64 (TensorFlow's int32 axes and shapes; a scalar axis).
                    var name = v
                    if type != .int64 {
                        name = graph.unique("\(v)__int64")
                        graph.add("Cast", name: "\(node.name)/input\(position)_int64", inputs: [v], outputs: [name],
                                  attributes: [ONNXExportGraph.int("to", ONNXExportAttributes.typeCode(.int64))], since: 13)
                    }
                    if facts.rank(v) != 1 {
                        let vector = graph.unique("\(v)__vector")
                        graph.add("Reshape", name: "\(node.name)/input\(position)_vector",
                                  inputs: [name, graph.int64s("\(node.name).input\(position)_vector_shape", [-1])], outputs: [vector], since: 14)
                        name = vector
                    }
                    inputs.append(name)
                } else {
                    inputs.append(v)
                }
            case .constant(var t):
                if int64Positions.contains(position), t.dtype != .int64 || t.rank != 1, !t.dtype.isFloatingPoint {
                    t = ONNXExportOperand.int64Tensor(t.integers().map { Int(truncatingIfNeeded: $0) }, shape: [t.count])
                } else if t.dtype.isFloatingPoint, let reference, reference != t.dtype,
                          !(Self.ownTypePositions[node.type] ?? []).contains(position) {
                    t = t.converted(to: reference)
                }
                inputs.append(graph.constant("\(node.name).input\(position)", t))
            case .absent:
                inputs.append("")
            }
        }
        while inputs.last == "" { inputs.removeLast() }
        graph.add(node.type, name: node.name, inputs: inputs, outputs: node.outputs,
                  attributes: try ONNXExportAttributes.attributes(node.attributes), since: form)
    }

    /// Input positions ONNX types as 1-D int64 only, for op `type` in the form of version `form`
    /// (onnx/onnx `docs/Operators.md`): axes, shapes, pads, repeats, split sizes, Resize's sizes.
    private static func int64Positions(_ type: String, form: Int) -> Set<Int> {
        switch type {
        case "Reshape", "Expand", "Tile", "Unsqueeze", "Squeeze", "Split": return [1]
        case "ReduceSum" where form >= 13: return [1]
        case "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
             "ReduceL1", "ReduceL2":
            return form >= 18 ? [1] : []
        case "Pad": return [1]
        case "ConstantOfShape": return [0]
        case "Resize": return [3]
        default: return []
        }
    }

    /// Input positions whose float type ONNX does not tie to the op's data: Resize's roi and
    /// scales, Dropout's ratio, BatchNormalization's parameters and statistics (opset 15), Pow's
    /// exponent.
    private static let ownTypePositions: [String: Set<Int>] = [
        "Resize": [1, 2], "Upsample": [1], "Dropout": [1], "BatchNormalization": [1, 2, 3, 4], "Pow": [1],
        "CastLike": [1], "Cast": [],
    ]
}
