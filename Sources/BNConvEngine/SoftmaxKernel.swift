import BNConvCore
import BNConvModel
import BNConvInterop

/// A softmax node along `axis`.
struct SoftmaxKernel: EngineKernel {
    /// The axis (batch included; may be negative).
    let axis: Int

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let g = try ChannelGeometry(shape: x.shape, axis: axis)
        let y = try context.output(x.shape, reusing: 0, of: inputs)
        Softmax.apply(input: x.pointer, output: y.pointer, geometry: g, parallel: context.parallel)
        return y
    }
}
