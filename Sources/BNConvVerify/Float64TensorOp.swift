import BNConvCore
import BNConvModel
import BNConvOps

/// An op-library node (``Op/tensor(_:)``) in the float64 reference (``Float64Reference``): the per-channel
/// `Add` the planner sees through between a layer and its BN, or any other, run by the op library
/// (ONNX semantics) on float64 tensors, its float constants widened exactly first.
///
/// For the rounding bound (`magnitudes`, ``Float64Reference/roundingScale(_:inputs:budget:)``) on
/// non-negative magnitudes, with the constants' absolute values: an `Add` or `Sub` as an `Add`, a
/// `Mul` as itself, and the ops that only move or pass values; any other op has no bound here.
enum Float64TensorOp {
    /// Ops that only move values, which a bound passes through as they are.
    static let movesValues: Set<String> = ["Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Dropout"]

    /// The first output of `op` (node `node`) on `inputs` (the node's input values).
    static func run(_ node: Node, _ op: TensorOp, _ inputs: [Float64Tensor], magnitudes: Bool = false) throws -> Float64Tensor {
        var op = op
        if magnitudes {
            switch op.type {
            case "Add", "Sub": op.type = "Add"
            case "Mul": break
            case let type where movesValues.contains(type): break
            default: throw Float64Reference.Unsupported("no rounding bound through \(node.name) (\(op.type))")
            }
        }
        let operands: [HostTensor?] = try op.arguments.map { argument in
            switch argument {
            case .value(let i):
                guard i >= 0, i < inputs.count else { throw Float64Reference.Unsupported("\(node.name)'s argument \(i) names no input") }
                return HostTensor(dtype: .float64, shape: inputs[i].shape, storage: .double(inputs[i].values))
            case .weight(let role):
                guard let w = node.weight(role) else { throw Float64Reference.Unsupported("\(node.name) has no \(role) weight") }
                let constant = try HostTensor(w.tensor)
                guard constant.dtype.isFloatingPoint else { return constant }
                let wide = constant.converted(to: .float64)
                guard magnitudes, case .double(let v) = wide.storage else { return wide }
                return HostTensor(dtype: .float64, shape: wide.shape, storage: .double(v.map(abs)))
            case .absent:
                return nil
            }
        }
        guard let result = try OpLibrary.kernel(for: op).run(operands).first, case .double(let values) = result.storage else {
            throw Float64Reference.Unsupported("\(node.name) (\(op.type)) does not give float64 values")
        }
        return Float64Tensor(shape: result.shape, values: values)
    }
}
