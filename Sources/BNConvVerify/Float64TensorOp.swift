import BNConvCore
import BNConvModel
import BNConvOps

/// An op-library node (``Op/tensor(_:)``) in the float64 reference (``Float64Reference``): the per-channel
/// `Add` the planner sees through between a layer and its BN, or any other, run by the op library
/// (ONNX semantics) on float64 tensors, its float constants widened exactly first.
enum Float64TensorOp {
    /// The first output of `op` (node `node`) on `inputs` (the node's input values).
    static func run(_ node: Node, _ op: TensorOp, _ inputs: [Float64Tensor]) throws -> Float64Tensor {
        let operands: [HostTensor?] = try op.arguments.map { argument in
            switch argument {
            case .value(let i):
                guard i >= 0, i < inputs.count else { throw Float64Reference.Unsupported("\(node.name)'s argument \(i) names no input") }
                return HostTensor(dtype: .float64, shape: inputs[i].shape, storage: .double(inputs[i].values))
            case .weight(let role):
                guard let w = node.weight(role) else { throw Float64Reference.Unsupported("\(node.name) has no \(role) weight") }
                let constant = try HostTensor(w.tensor)
                return constant.dtype.isFloatingPoint ? constant.converted(to: .float64) : constant
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
