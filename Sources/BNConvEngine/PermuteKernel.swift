import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras `Permute`: reorders the axes after the batch; `dims` are 1-based as in Keras.
struct PermuteKernel: EngineKernel {
    /// The 1-based permutation of the non-batch axes.
    let dims: [Int]

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let perm = [0] + dims
        guard perm.count == x.shape.count, Set(perm) == Set(0..<x.shape.count) else {
            throw EngineError.shapeMismatch("permute dims", expected: x.shape, got: dims)
        }
        return try Permutation.permute(x, perm, context)
    }
}
