import BNConvCore
import BNConvModel
import BNConvInterop

/// A standalone activation node (Keras `Activation`, `ReLU`, `LeakyReLU`, ... layers).
struct ActivationKernel: EngineKernel {
    /// The function.
    let activation: Activation

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let y = try context.output(x.shape, reusing: 0, of: inputs)
        ActivationFunction.apply(activation, input: x.pointer, output: y.pointer, count: x.count,
                                 lastAxis: x.shape.last ?? 1, parallel: context.parallel)
        return y
    }
}
