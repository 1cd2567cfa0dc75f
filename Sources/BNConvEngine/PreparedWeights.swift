import BNConvCore
import BNConvModel
import BNConvInterop

/// Weights converted once, at init, to float32 in the layout a kernel computes with.
enum PreparedWeights {
    /// A node's weight for `role` as floats in `target` layout (`hwio`, `oihw`, `hwcm`, `hwoi` or `io`),
    /// converting from the file's layout: `oihw`/`iohw` (ONNX, PyTorch) to `hwio`/`hwoi` and back, `oi` to `io`,
    /// and an ONNX depthwise `oihw` kernel `(C*M, 1, k...)` to `hwcm`. Returns values and shape.
    static func kernel(_ node: Node, _ role: WeightRole, as target: KernelLayout) throws -> (values: [Float], shape: [Int]) {
        guard let weight = node.weight(role) else { throw EngineError.missingWeight(node: node.name, role: role) }
        let t = weight.tensor
        let tensorF32 = t.dtype == .float32 ? t : t.converted(to: .float32)
        let rank = t.rank
        func permuted(_ perm: [Int]) throws -> (values: [Float], shape: [Int]) {
            let p = try tensorF32.transposed(perm)
            return (p.floats(), p.shape)
        }
        switch (weight.layout, target) {
        case (let a, let b) where a == b:
            return (tensorF32.floats(), t.shape)
        case (.oihw, .hwio), (.iohw, .hwoi):
            guard rank >= 3 else { break }
            return try permuted(Array(2..<rank) + [1, 0])
        case (.hwio, .oihw), (.hwoi, .iohw):
            guard rank >= 3 else { break }
            return try permuted([rank - 1, rank - 2] + Array(0..<(rank - 2)))
        case (.oi, .io):
            guard rank == 2 else { break }
            return try permuted([1, 0])
        case (.oihw, .hwcm):
            // (C*M, 1, k...) -> (k..., 1, C*M) -> (k..., C, M) needs C: taken from the op by the caller.
            guard rank >= 3, t.shape[1] == 1 else { break }
            return try permuted(Array(2..<rank) + [1, 0])
        default:
            break
        }
        throw EngineError.unsupportedOp(node: node.name, op: node.opName,
                                        reason: "weight '\(role)' in layout \(weight.layout.rawValue) (shape \(t.shape)) cannot be used as \(target.rawValue)")
    }

    /// A per-channel vector weight (bias) as floats, checked to hold `count` values; `nil` when absent.
    static func vector(_ node: Node, _ role: WeightRole, count: Int) throws -> [Float]? {
        guard let weight = node.weight(role) else { return nil }
        let values = weight.tensor.floats()
        guard values.count == count else {
            throw EngineError.weightShape(node: node.name, role: role, expected: [count], got: weight.tensor.shape)
        }
        return values
    }
}
