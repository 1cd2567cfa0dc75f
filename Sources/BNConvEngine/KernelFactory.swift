import BNConvCore
import BNConvModel
import BNConvInterop
import BNConvOps

/// Builds the kernel that runs one node, or says why the engine cannot run it.
enum KernelFactory {
    /// The kernel for `node` (BatchNorms normalizing as `batchNormStatistics` says); channels-first convolutions, 2-D transposed convolutions, depthwise convolutions and pooling run natively, the other channels-first spatial ops inside a ``ChannelsFirstAdapter``; channels-first 3x3 stride-1 convolutions by Winograd's algorithm when `winograd` and ``ChannelsFirstWinogradKernel`` takes them.
    /// Weights are prepared on `parallel`'s cores, or, with `streamsWeights`, the large ones only planned
    /// and made at each run (``KernelWeights``; no Winograd, whose transformed filters would be kept).
    static func make(_ node: Node, batchNormStatistics: BatchNormStatistics = .asRecorded,
                     winograd: Bool = true, streamsWeights: Bool = false, parallel: Parallel = .allCores) throws -> EngineKernel {
        func spatial(_ kernel: EngineKernel, _ layout: DataLayout) -> EngineKernel {
            layout == .channelsFirst ? ChannelsFirstAdapter(inner: kernel) : kernel
        }
        switch node.op {
        case .input:
            throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "an input node is not run")
        case .conv(let c):
            try checkRank(node, c.rank)
            if c.layout == .channelsFirst {
                if let depthwise = try depthwise(node, c, streamsWeights: streamsWeights) { return depthwise }
                let direct = try ChannelsFirstConvolutionKernel(node: node, attributes: c, streamsWeights: streamsWeights)
                return (winograd && !streamsWeights ? ChannelsFirstWinogradKernel(direct, parallel: parallel) : nil) ?? direct
            }
            return try ConvolutionKernel(node: node, attributes: c, streamsWeights: streamsWeights)
        case .depthwiseConv(let c):
            try checkRank(node, c.rank)
            let kernel = try DepthwiseKernel(node: node, attributes: c, role: .kernel, separable: false, streamsWeights: streamsWeights)
            return c.layout == .channelsFirst ? try ChannelsFirstDepthwiseKernel(kernel) : kernel
        case .separableConv(let c):
            try checkRank(node, c.rank)
            return spatial(try SeparableConvolutionKernel(node: node, attributes: c, streamsWeights: streamsWeights), c.layout)
        case .convTranspose(let c):
            try checkRank(node, c.rank)
            if case .causal = c.padding {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "causal padding on a transposed convolution")
            }
            if c.layout == .channelsFirst && c.rank == 2 {
                return try ChannelsFirstConvolutionTransposeKernel(node: node, attributes: c, streamsWeights: streamsWeights)
            }
            return spatial(try ConvolutionTransposeKernel(node: node, attributes: c, streamsWeights: streamsWeights), c.layout)
        case .dense(let d):
            return try DenseKernel(node: node, attributes: d, streamsWeights: streamsWeights)
        case .batchNorm(let b):
            return try BatchNormKernel(node: node, attributes: b, statistics: batchNormStatistics)
        case .activation(let a):
            return ActivationKernel(activation: a)
        case .pool(let p):
            return p.layout == .channelsFirst ? ChannelsFirstPoolKernel(attributes: p) : PoolKernel(attributes: p)
        case .globalPool(let p):
            return GlobalPoolKernel(attributes: p)
        case .elementwise(let kind):
            return ElementwiseKernel(kind: kind)
        case .concat(let axis):
            return ConcatKernel(axis: axis)
        case .flatten:
            return ReshapeKernel.flatten
        case .reshape(let target):
            guard target.filter({ $0 == -1 }).count <= 1 else {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "more than one -1 in target shape \(target)")
            }
            return ReshapeKernel(target: target)
        case .identity:
            return ReshapeKernel(target: nil)
        case .permute(let p):
            return PermuteKernel(dims: p)
        case let .pad(padding, layout):
            return PadCropKernel(pairs: padding, layout: layout, pads: true)
        case let .crop(cropping, layout):
            return PadCropKernel(pairs: cropping, layout: layout, pads: false)
        case let .upsample(size, interpolation, layout):
            guard interpolation == "nearest" || interpolation == "bilinear" else {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "interpolation '\(interpolation)'")
            }
            return spatial(UpsampleKernel(size: size, bilinear: interpolation == "bilinear"), layout)
        case let .rescaling(scale, offset):
            guard !scale.isEmpty else {
                throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "no scale")
            }
            return RescalingKernel(scale: scale.map(Float.init), offset: offset.map(Float.init))
        case .normalization(let axes):
            return try NormalizationKernel(node: node, axes: axes)
        case .softmax(let axis):
            return SoftmaxKernel(axis: axis)
        case .tensor(let op):
            do {
                if op.type == "TF.IdentityN" { return try IdentityNKernel(node: node, op: op) }
                return try TensorOpKernel(node: node, op: op)
            } catch let error as OpError {
                throw EngineError.unsupportedOp(node: node.name, op: op.type, reason: "\(error)")
            }
        case .opaque(let type):
            throw EngineError.notSupported(kind: "op", op: type, node: node.name)
        }
    }

    /// A channels-first grouped convolution with one input channel per group (ONNX's and PyTorch's
    /// depthwise convolution: kernel `(C * M, 1, k...)`, `group = C`) as the direct depthwise kernel,
    /// which computes each output plane from its one input plane; a GEMM per group would multiply
    /// one row at a time. `nil` for any other convolution.
    private static func depthwise(_ node: Node, _ c: Convolution, streamsWeights: Bool) throws -> EngineKernel? {
        guard c.groups > 1, let weight = node.weight(.kernel), weight.layout == .oihw else { return nil }
        let shape = weight.tensor.shape
        guard shape.count == c.rank + 2, shape[1] == 1, shape[0] % c.groups == 0 else { return nil }
        var attributes = c
        attributes.depthMultiplier = shape[0] / c.groups
        let kernel = try DepthwiseKernel(node: node, attributes: attributes, role: .kernel, separable: false, streamsWeights: streamsWeights)
        return try ChannelsFirstDepthwiseKernel(kernel)
    }

    private static func checkRank(_ node: Node, _ rank: Int) throws {
        guard (1...3).contains(rank) else {
            throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "\(rank)-D convolution")
        }
    }
}
