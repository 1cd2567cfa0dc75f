import BNConvCore
import BNConvModel
import BNConvInterop

/// A PyTorch-convention state dict of a ``Model``'s weights, for a safetensors export.
///
/// The model must already be channels-first (the layout pass has run: `TorchStateDict.safeTensors(of:)`
/// in the pipeline layer runs it), so a Dense after a Flatten has its rows in NCHW flatten order,
/// as `torch.flatten` of an NCHW tensor needs. Module names
/// are the layer names with `/` (nesting) replaced by `.` (``BatchNormNaming/torchModule(_:)``).
///
/// | layer | key | stored | written |
/// | --- | --- | --- | --- |
/// | Conv1D/2D/3D | `weight` | (k..., in, out) | (out, in, k...): transpose(last, last-1, 0, ...) |
/// | DepthwiseConv | `weight` | (k..., in, mult) | (in*mult, 1, k...) (`groups = in`) |
/// | SeparableConv | `depthwise.weight`, `pointwise.weight`, `pointwise.bias` | as above | depthwise as above, pointwise (out, in*mult, 1...) |
/// | ConvTranspose | `weight` | (k..., out, in) | (in, out, k...): transpose(last, last-1, 0, ...) |
/// | Dense | `weight` | (in, out) | (out, in) |
/// | any | `bias` | (C) | (C) |
/// | BatchNorm | `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked` | gamma, beta, moving mean/var | as is; ones/zeros for scale/center False; int64 0 |
/// | other | `<role>` | as stored | as stored |
///
/// The constant operands of a Keras `TFOpLambda` (`x + 3`), which the config holds and no layer
/// stores as a variable, are not in it.
///
/// Values keep their dtype (bit-exact).
public enum TorchStateDict {
    /// The state dict of `converted`, a model already converted to channels-first.
    public static func entries(ofChannelsFirst converted: Model) throws -> [SafeTensorsFile.Entry] {
        var out: [SafeTensorsFile.Entry] = []
        for node in converted.nodes where !KerasLayerRecord.storedWeights(of: node).isEmpty {
            let m = BatchNormNaming.torchModule(node.name)
            func add(_ key: String, _ tensor: Tensor) { out.append(.init(name: "\(m).\(key)", tensor: tensor)) }
            switch node.op {
            case .conv, .depthwiseConv, .convTranspose, .dense:
                for w in node.weights {
                    if w.role == .kernel {
                        let t: Tensor
                        switch node.op {
                        case .conv: t = try ChannelsFirstWeights.convolution(w, node: node.name)
                        case .depthwiseConv: t = try ChannelsFirstWeights.depthwise(w, node: node.name)
                        case .convTranspose: t = try ChannelsFirstWeights.transposedConvolution(w, node: node.name)
                        default: t = try ChannelsFirstWeights.denseOutIn(w, node: node.name)
                        }
                        add("weight", t)
                    } else {
                        add(w.role.rawValue, w.tensor)
                    }
                }
            case .separableConv:
                for w in node.weights {
                    switch w.role {
                    case .depthwiseKernel: add("depthwise.weight", try ChannelsFirstWeights.depthwise(w, node: node.name))
                    case .pointwiseKernel: add("pointwise.weight", try ChannelsFirstWeights.convolution(w, node: node.name))
                    case .bias: add("pointwise.bias", w.tensor)
                    default: add(w.role.rawValue, w.tensor)
                    }
                }
            case .batchNorm:
                guard let mean = node.weight(.movingMean), let variance = node.weight(.movingVariance) else {
                    throw CheckpointError(.unsupported, file: converted.name, place: node.name, problem: "the BatchNorm has no moving statistics")
                }
                let c = mean.tensor.count
                add("weight", node.weight(.gamma)?.tensor ?? Tensor(shape: [c], doubles: Array(repeating: 1, count: c), dtype: mean.tensor.dtype))
                add("bias", node.weight(.beta)?.tensor ?? Tensor(shape: [c], doubles: Array(repeating: 0, count: c), dtype: mean.tensor.dtype))
                add("running_mean", mean.tensor)
                add("running_var", variance.tensor)
                add("num_batches_tracked", Tensor(shape: [], doubles: [0], dtype: .int64))
            default:
                for w in KerasLayerRecord.storedWeights(of: node) { add(w.role.rawValue, w.tensor) }
            }
        }
        return out
    }

    /// The state dict of a channels-first model as a safetensors file with `{"format": "pt"}` metadata.
    public static func safeTensors(ofChannelsFirst converted: Model) throws -> SafeTensorsFile {
        SafeTensorsFile(entries: try entries(ofChannelsFirst: converted), metadata: ["format": "pt", "producer": "bnconv"])
    }
}
