import BNConvCore
import BNConvModel
import BNConvInterop

/// A BatchNorm node, unfused, through ``BatchNormLayer``: inference mode with the moving statistics,
/// or (a node recorded in training mode) the batch's moments, without updating anything.
struct BatchNormKernel: EngineKernel {
    /// The node's name (reported with its batch moments).
    let name: String
    /// The layer.
    let layer: BatchNormLayer
    /// The mode the node runs in.
    let mode: BatchNormMode
    /// Coefficients for inference mode, computed once.
    let inference: BatchNormCoefficients

    /// Prepares a BN node; `statistics == .batch` makes it normalize with batch statistics whatever
    /// the node records.
    init(node: Node, attributes: BatchNorm, statistics: BatchNormStatistics = .asRecorded) throws {
        name = node.name
        layer = try BatchNormLayer(node: node, attributes: attributes)
        mode = statistics == .batch ? .training(updatesMovingStatistics: true) : BatchNormMode(attributes)
        inference = layer.inferenceCoefficients
    }

    /// The node as an epilogue step of a producer whose output has `rank` dimensions (`nil`: unknown)
    /// and its channels on `channelAxis` (`nil`: the last axis): only in inference mode and when the
    /// BN normalizes that axis.
    func postOp(outputRank rank: Int?, channelAxis: Int? = nil) -> PostOp? {
        guard mode == .inference else { return nil }
        if let channelAxis, let rank {
            guard layer.axis == channelAxis || layer.axis == channelAxis - rank else { return nil }
        } else {
            guard layer.axis == -1 || (rank.map { layer.axis == $0 - 1 } ?? false) else { return nil }
        }
        return .affine(scale: inference.scale.map(Float.init), shift: inference.shift.map(Float.init))
    }

    func run(_ inputs: [EngineValue], _ context: KernelContext) throws -> EngineValue {
        let x = inputs[0]
        let g = try ChannelGeometry(shape: x.shape, axis: layer.axis)
        guard g.channels == layer.movingMean.count else {
            throw EngineError.shapeMismatch("BatchNorm channels", expected: [layer.movingMean.count], got: [g.channels])
        }
        let coefficients: BatchNormCoefficients
        switch mode {
        case .inference:
            coefficients = inference
        case .training:
            let moments = BatchNormMoments(of: UnsafeBufferPointer(start: x.pointer, count: x.count), geometry: g,
                                           parallel: context.parallel)
            coefficients = layer.trainingCoefficients(moments)
            context.batchNormObservations?.append(BatchNormObservation(node: name, inputShape: x.shape, moments: moments))
        }
        let y = try context.output(x.shape, reusing: 0, of: inputs)
        coefficients.apply(input: x.pointer, output: y.pointer, geometry: g, parallel: context.parallel)
        return y
    }
}
