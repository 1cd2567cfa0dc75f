import BNConvCore
import BNConvModel
import BNConvInterop

/// Weights converted to float32 in the layout a kernel computes with.
enum PreparedWeights {
    /// How a stored weight becomes the layout a kernel wants: the axis permutation to apply (`nil`:
    /// none) and the resulting shape, worked out from the shape alone (nothing is read).
    struct Plan: Equatable {
        /// numpy `transpose` order, or `nil` when the stored layout is already the target.
        let permutation: [Int]?
        /// The shape in the target layout.
        let shape: [Int]
    }

    /// The plan for `node`'s weight `role` in `target` layout (`hwio`, `oihw`, `hwcm`, `hwoi` or `io`),
    /// converting from the file's layout: `oihw`/`iohw` (ONNX, PyTorch) to `hwio`/`hwoi` and back, `oi`
    /// to `io`, and an ONNX depthwise `oihw` kernel `(C*M, 1, k...)` to `hwcm`.
    static func plan(_ node: Node, _ role: WeightRole, as target: KernelLayout) throws -> Plan {
        guard let weight = node.weight(role) else { throw EngineError.missingWeight(node: node.name, role: role) }
        let shape = weight.tensor.shape, rank = shape.count
        func permuted(_ perm: [Int]) -> Plan { Plan(permutation: perm, shape: perm.map { shape[$0] }) }
        switch (weight.layout, target) {
        case (let a, let b) where a == b:
            return Plan(permutation: nil, shape: shape)
        case (.oihw, .hwio), (.iohw, .hwoi):
            guard rank >= 3 else { break }
            return permuted(Array(2..<rank) + [1, 0])
        case (.hwio, .oihw), (.hwoi, .iohw):
            guard rank >= 3 else { break }
            return permuted([rank - 1, rank - 2] + Array(0..<(rank - 2)))
        case (.oi, .io):
            guard rank == 2 else { break }
            return permuted([1, 0])
        case (.oihw, .hwcm):
            // (C*M, 1, k...) -> (k..., 1, C*M) -> (k..., C, M) needs C: taken from the op by the caller.
            guard rank >= 3, shape[1] == 1 else { break }
            return permuted(Array(2..<rank) + [1, 0])
        default:
            break
        }
        throw EngineError.unsupportedOp(node: node.name, op: node.opName,
                                        reason: "weight '\(role)' in layout \(weight.layout.rawValue) (shape \(shape)) cannot be used as \(target.rawValue)")
    }

    /// `tensor` (loaded here if still in its file) as float32 values laid out by `plan`.
    static func values(_ tensor: Tensor, _ plan: Plan) throws -> [Float] {
        let loaded = try tensor.materialized()
        let f32 = loaded.dtype == .float32 ? loaded : loaded.converted(to: .float32)
        guard let permutation = plan.permutation else { return f32.floats() }
        return try f32.transposed(permutation).floats()
    }

    /// A per-channel vector weight (bias) as floats, checked to hold `count` values; `nil` when absent.
    static func vector(_ node: Node, _ role: WeightRole, count: Int) throws -> [Float]? {
        guard let weight = node.weight(role) else { return nil }
        let values = try weight.tensor.materialized().floats()
        guard values.count == count else {
            throw EngineError.weightShape(node: node.name, role: role, expected: [count], got: weight.tensor.shape)
        }
        return values
    }
}
