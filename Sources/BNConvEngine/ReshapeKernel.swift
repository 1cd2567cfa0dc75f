import BNConvCore
import BNConvModel
import BNConvInterop

/// Flatten, Reshape and identity: the output shares the input's buffer (no copy); only the shape changes.
struct ReshapeKernel: EngineKernel {
    /// The shape after the batch axis (one entry may be -1); `nil` keeps the input shape (identity).
    let target: [Int]?

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        guard var target else { return context.alias(x, shape: x.shape) }
        let batch = x.shape.first ?? 1
        let per = x.count / max(batch, 1)
        // The target comes from the file: products are checked (2^62 x 2 is an error, not a trap).
        let product = ShapeInference.checkedProduct
        if let unknown = target.firstIndex(of: -1) {
            guard let known = product(target.enumerated().filter { $0.offset != unknown }.map(\.element)), known > 0, per % known == 0 else {
                throw EngineError.shapeMismatch("reshape target", expected: target, got: x.shape)
            }
            target[unknown] = per / known
        }
        guard product(target) == per else { throw EngineError.shapeMismatch("reshape target", expected: target, got: x.shape) }
        return context.alias(x, shape: [batch] + target)
    }

    /// Flatten: every axis after the batch into one.
    static let flatten = ReshapeKernel(target: [-1])
}
