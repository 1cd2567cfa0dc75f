import BNConvCore
import BNConvModel
import BNConvInterop

/// The shapes a layer's config says its variables have (tf_keras `build`), so a checkpoint paired
/// with a config it does not belong to is refused with the key that differs instead of failing
/// later on a layer's input. Dimensions the config does not tell (an input channel count without
/// `build_config`) are `nil`; layers this does not know give no shapes.
enum KerasExpectedShapes {
    /// The expected shape of each variable (by local name) of `entry`, for the layers whose
    /// variables tf_keras shapes from their config: convolutions (plain, transposed, depthwise,
    /// separable), Dense and BatchNormalization.
    static func shapes(of entry: KerasLayerEntry) -> [String: [Int?]] {
        let c = entry.config
        let className = entry.className
        let channelsFirst = c["data_format"]?.stringValue == "channels_first"
        let input = entry.callShapes.first?.first ?? nil
        let inChannels: Int? = input.flatMap { shape in
            guard shape.count >= 2 else { return nil }
            return channelsFirst ? shape[1] : shape[shape.count - 1]
        }
        let rank = KerasLayerMapper.rank(className)
        let kernel: [Int?]? = KerasLayerMapper.tuple(c["kernel_size"], rank: rank)?.map { Optional($0) }
        let filters = c["filters"]?.intValue
        let groups = c["groups"]?.intValue ?? 1
        switch className {
        case "Dense":
            let units = c["units"]?.intValue
            return ["kernel": [inChannels, units], "bias": [units]]
        case "BatchNormalization", "SyncBatchNormalization":
            var axis = c["axis"]?.intValue ?? c["axis"]?.arrayValue?.first?.intValue
            if let a = axis, a < 0, let r = input?.count { axis = r + a }
            let channels = axis.flatMap { a in input.flatMap { a >= 0 && a < $0.count ? $0[a] : nil } }
            return Dictionary(uniqueKeysWithValues: ["gamma", "beta", "moving_mean", "moving_variance"].map { ($0, [channels]) })
        case "DepthwiseConv1D", "DepthwiseConv2D":
            guard let kernel else { return [:] }
            let multiplier = c["depth_multiplier"]?.intValue ?? 1
            let shape = kernel + [inChannels, multiplier]
            return ["depthwise_kernel": shape, "kernel": shape, "bias": [inChannels.map { $0 * multiplier }]]
        case "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D":
            guard let kernel else { return [:] }
            let multiplier = c["depth_multiplier"]?.intValue ?? 1
            return ["depthwise_kernel": kernel + [inChannels, multiplier],
                    "pointwise_kernel": Array(repeating: 1, count: rank) + [inChannels.map { $0 * multiplier }, filters],
                    "bias": [filters]]
        case "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose", "Convolution2DTranspose",
             "Convolution3DTranspose", "Deconvolution2D", "Deconv2D":
            guard let kernel else { return [:] }
            return ["kernel": kernel + [filters, inChannels], "bias": [filters]]
        case "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D":
            guard let kernel else { return [:] }
            return ["kernel": kernel + [inChannels.map { $0 / max(groups, 1) }, filters], "bias": [filters]]
        default:
            return [:]
        }
    }

    /// Whether `shape` is what `expected` allows (same rank, every known dimension equal).
    static func matches(_ shape: [Int], _ expected: [Int?]) -> Bool {
        shape.count == expected.count && zip(shape, expected).allSatisfy { $1 == nil || $0 == $1 }
    }

    /// `expected` written as a shape with `?` for unknown dimensions: `[3, 3, ?, 8]`.
    static func describe(_ expected: [Int?]) -> String {
        "[" + expected.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }
}
