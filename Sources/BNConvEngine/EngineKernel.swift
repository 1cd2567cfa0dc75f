import BNConvCore
import BNConvModel
import BNConvInterop

/// One runnable node: weights prepared once at init, shapes worked out from the inputs at run time.
protocol EngineKernel {
    /// Computes the node's output from its inputs.
    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue
}
