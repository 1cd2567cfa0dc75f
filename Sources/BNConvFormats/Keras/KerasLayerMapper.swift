import BNConvCore
import BNConvModel
import BNConvInterop

/// Maps a Keras layer (class name + config) to an ``Op`` with typed attributes, and its stored
/// variables to weight roles and kernel layouts (docs/formats.md, Keras layer weights).
enum KerasLayerMapper {
    /// The op of a layer; an unknown layer, or a known one with settings bnconv does not model
    /// (an unknown activation, a multi-axis BN), becomes `.opaque(type:)`.
    static func op(className: String, config c: JSONObject, dialect: KerasDialect) -> Op {
        mappedOp(className: className, config: c, dialect: dialect) ?? .opaque(type: className)
    }

    /// The op of one call of a layer whose op depends on the call's arguments, with the constants
    /// the op reads as weights: a `TFOpLambda` (a TensorFlow function called in functional code;
    /// its operands are in the inbound node, `KerasOpLambdaMapper`). `nil` for every other layer,
    /// whose op ``op(className:config:dialect:)`` gives.
    static func callOp(className: String, config c: JSONObject, call: JSONValue, layer: String) -> KerasOpLambdaMapper.Mapped? {
        switch className {
        case "TFOpLambda":
            return KerasOpLambdaMapper.map(config: c, call: KerasCallArguments(call), layer: layer)
        default:
            return nil
        }
    }

    private static func mappedOp(className: String, config c: JSONObject, dialect: KerasDialect) -> Op? {
        let layout: DataLayout = c["data_format"]?.stringValue == "channels_first" ? .channelsFirst : .channelsLast
        switch className {
        case "InputLayer":
            return .input
        case "Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D":
            return convolution(c, rank: rank(className), layout: layout).map { .conv($0) }
        case "DepthwiseConv1D", "DepthwiseConv2D":
            return convolution(c, rank: rank(className), layout: layout).map { .depthwiseConv($0) }
        case "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D":
            return convolution(c, rank: rank(className), layout: layout).map { .separableConv($0) }
        case "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
             "Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose", "Deconvolution2D", "Deconv2D":
            return convolution(c, rank: rank(className), layout: layout).map { .convTranspose($0) }
        case "Dense":
            guard let units = c["units"]?.intValue, let act = activation(c["activation"], dialect: dialect) else { return nil }
            return .dense(Dense(units: units, useBias: c["use_bias"]?.boolValue ?? true, activation: act))
        case "BatchNormalization", "SyncBatchNormalization":
            let axis: Int
            if let a = c["axis"]?.intValue { axis = a }
            else if let list = c["axis"]?.arrayValue, list.count == 1, let a = list[0].intValue { axis = a }
            else { return nil }
            if c["renorm"]?.boolValue == true { return nil }
            if let v = c["virtual_batch_size"], !v.isNull { return nil }
            return .batchNorm(BatchNorm(epsilon: c["epsilon"]?.doubleValue ?? 1e-3, momentum: c["momentum"]?.doubleValue ?? 0.99,
                                        axis: axis, center: c["center"]?.boolValue ?? true, scale: c["scale"]?.boolValue ?? true,
                                        training: false, trainable: c["trainable"]?.boolValue ?? true))
        case "Activation":
            return activation(c["activation"], dialect: dialect).map { .activation($0) }
        case "ReLU":
            let maxValue = c["max_value"]?.doubleValue
            let threshold = c["threshold"]?.doubleValue ?? 0
            let slope = c["negative_slope"]?.doubleValue ?? 0
            if maxValue == 6, threshold == 0, slope == 0 { return .activation(.relu6) }
            return .activation(.relu(maxValue: maxValue, threshold: threshold, negativeSlope: slope))
        case "LeakyReLU":
            return .activation(.leakyRelu(alpha: c["negative_slope"]?.doubleValue ?? c["alpha"]?.doubleValue ?? 0.3))
        case "ELU":
            return .activation(.elu(alpha: c["alpha"]?.doubleValue ?? 1))
        case "Softmax":
            if let a = c["axis"]?.intValue { return .softmax(axis: a) }
            if let list = c["axis"]?.arrayValue, list.count == 1, let a = list[0].intValue { return .softmax(axis: a) }
            return c["axis"] == nil ? .softmax(axis: -1) : nil
        case "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D":
            return pool(.max, c, rank: rank(className), layout: layout)
        case "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D":
            return pool(.average, c, rank: rank(className), layout: layout)
        case "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D":
            return .globalPool(GlobalPool(kind: .max, keepDims: c["keepdims"]?.boolValue ?? false, layout: layout))
        case "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
             "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D":
            return .globalPool(GlobalPool(kind: .average, keepDims: c["keepdims"]?.boolValue ?? false, layout: layout))
        case "Add": return .elementwise(.add)
        case "Subtract": return .elementwise(.subtract)
        case "Multiply": return .elementwise(.multiply)
        case "Maximum": return .elementwise(.maximum)
        case "Minimum": return .elementwise(.minimum)
        case "Average": return .elementwise(.average)
        case "Concatenate":
            return .concat(axis: c["axis"]?.intValue ?? -1)
        case "Flatten":
            return layout == .channelsFirst ? nil : .flatten
        case "Reshape":
            return ints(c["target_shape"]).map { .reshape(targetShape: $0) }
        case "Permute":
            // 1-based, a permutation of the non-batch axes; anything else is not run.
            guard let dims = ints(c["dims"]), !dims.isEmpty, Set(dims) == Set(1...dims.count) else { return nil }
            return .permute(permutation: dims)
        case "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D":
            return pairs(c["padding"], rank: rank(className)).map { .pad(padding: $0, layout: layout) }
        case "Cropping1D", "Cropping2D", "Cropping3D":
            return pairs(c["cropping"], rank: rank(className)).map { .crop(cropping: $0, layout: layout) }
        case "UpSampling1D", "UpSampling2D", "UpSampling3D":
            let r = rank(className)
            guard let size = tuple(c["size"], rank: r) else { return nil }
            return .upsample(size: size, interpolation: c["interpolation"]?.stringValue ?? "nearest", layout: layout)
        case "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
             "AlphaDropout", "ActivityRegularization":
            return .identity
        case "Rescaling":
            guard let scale = doubles(c["scale"]), let offset = doubles(c["offset"] ?? .number("0")) else { return nil }
            return .rescaling(scale: scale, offset: offset)
        case "Normalization":
            if c["axis"]?.isNull == true { return .normalization(axis: []) }
            if let a = c["axis"]?.intValue { return .normalization(axis: [a]) }
            return ints(c["axis"]).map { .normalization(axis: $0) }
        default:
            return nil
        }
    }

    /// The spatial rank from a class name's `1D`/`2D`/`3D`.
    static func rank(_ className: String) -> Int {
        if className.contains("1D") { return 1 }
        if className.contains("3D") { return 3 }
        return 2
    }

    private static func convolution(_ c: JSONObject, rank: Int, layout: DataLayout) -> Convolution? {
        guard let kernel = tuple(c["kernel_size"], rank: rank),
              let act = activation(c["activation"], dialect: .keras3) ?? activation(c["activation"], dialect: .keras2) else { return nil }
        let strides = tuple(c["strides"], rank: rank) ?? Array(repeating: 1, count: rank)
        let dilations = tuple(c["dilation_rate"], rank: rank) ?? Array(repeating: 1, count: rank)
        let padding: Padding
        switch c["padding"]?.stringValue ?? "valid" {
        case "same": padding = .same
        case "causal": padding = .causal
        case "valid": padding = .valid
        default: return nil
        }
        let outputPadding = c["output_padding"].flatMap { tuple($0, rank: rank) }
        return Convolution(rank: rank, filters: c["filters"]?.intValue ?? 0, kernelSize: kernel, strides: strides,
                           dilations: dilations, padding: padding, groups: c["groups"]?.intValue ?? 1,
                           depthMultiplier: c["depth_multiplier"]?.intValue ?? 1, outputPadding: outputPadding,
                           useBias: c["use_bias"]?.boolValue ?? true, activation: act, layout: layout)
    }

    private static func pool(_ kind: Pool.Kind, _ c: JSONObject, rank: Int, layout: DataLayout) -> Op? {
        guard let size = tuple(c["pool_size"], rank: rank) else { return nil }
        let strides = (c["strides"].flatMap { $0.isNull ? nil : tuple($0, rank: rank) }) ?? size
        let padding: Padding = c["padding"]?.stringValue == "same" ? .same : .valid
        return .pool(Pool(kind: kind, poolSize: size, strides: strides, padding: padding, layout: layout))
    }

    /// A Keras activation (a name, or a serialized object) as an ``Activation``; `nil` when unknown.
    static func activation(_ value: JSONValue?, dialect: KerasDialect) -> Activation? {
        guard let value, !value.isNull else { return .linear }
        let name: String
        if let s = value.stringValue { name = s }
        else if let s = value["config"]?.stringValue ?? value["class_name"]?.stringValue { name = s }
        else { return nil }
        switch name.lowercased() {
        case "linear": return .linear
        case "relu": return .relu()
        case "relu6": return .relu6
        case "sigmoid": return .sigmoid
        case "hard_sigmoid":
            return dialect == .keras2 ? .hardSigmoid(slope: 0.2, offset: 0.5) : .hardSigmoid(slope: 1.0 / 6.0, offset: 0.5)
        case "swish", "silu": return .swish
        case "hard_swish", "hard_silu": return .hardSwish
        case "tanh": return .tanh
        case "gelu": return .gelu(approximate: false)
        case "softmax": return .softmax
        case "softplus": return .softplus
        case "softsign": return .softsign
        case "exponential": return .exponential
        case "selu": return .selu
        case "elu": return .elu(alpha: 1)
        case "leaky_relu": return .leakyRelu(alpha: 0.2)
        case "mish": return .mish
        default: return nil
        }
    }

    /// An int or a list of `rank` ints.
    static func tuple(_ value: JSONValue?, rank: Int) -> [Int]? {
        if let i = value?.intValue { return Array(repeating: i, count: rank) }
        guard let list = ints(value), list.count == rank else { return nil }
        return list
    }

    private static func ints(_ value: JSONValue?) -> [Int]? {
        guard let items = value?.arrayValue else { return nil }
        let out = items.compactMap(\.intValue)
        return out.count == items.count ? out : nil
    }

    private static func doubles(_ value: JSONValue?) -> [Double]? {
        if let d = value?.doubleValue { return [d] }
        guard let items = value?.arrayValue else { return nil }
        let out = items.compactMap(\.doubleValue)
        return out.count == items.count ? out : nil
    }

    /// Padding/cropping: an int, a per-axis list of ints (symmetric) or of `[before, after]` pairs.
    private static func pairs(_ value: JSONValue?, rank: Int) -> [Pair]? {
        if let i = value?.intValue { return Array(repeating: Pair(i, i), count: rank) }
        guard let items = value?.arrayValue else { return nil }
        if rank == 1, items.count == 2, let a = items[0].intValue, let b = items[1].intValue { return [Pair(a, b)] }
        guard items.count == rank else { return nil }
        var out: [Pair] = []
        for item in items {
            if let i = item.intValue { out.append(Pair(i, i)) }
            else if let p = item.arrayValue, p.count == 2, let a = p[0].intValue, let b = p[1].intValue { out.append(Pair(a, b)) }
            else { return nil }
        }
        return out
    }

    /// The weight role and kernel layout of a stored variable, from the layer class and the
    /// variable's name (`kernel`, `depthwise_kernel`, `gamma`, ...).
    static func role(className: String, variable: String) -> (WeightRole, KernelLayout) {
        let isDepthwise = className.hasPrefix("DepthwiseConv")
        let isSeparable = className.hasPrefix("SeparableConv")
        let isTransposed = className.hasSuffix("Transpose") || className.hasPrefix("Deconv")
        if isDepthwise && (variable == "kernel" || variable == "depthwise_kernel") { return (.kernel, .hwcm) }
        if isSeparable && variable == "depthwise_kernel" { return (.depthwiseKernel, .hwcm) }
        switch variable {
        case "kernel":
            if isTransposed { return (.kernel, .hwoi) }
            if className == "Dense" { return (.kernel, .io) }
            return (.kernel, .hwio)
        case "pointwise_kernel":
            return (.pointwiseKernel, .hwio)
        default:
            return (WeightRole(rawValue: variable), .vector)
        }
    }

    /// The variable names a layer stores, in Keras's order, when the file does not name them
    /// (a Keras 3 `vars/0..n` group). `nil` when the class is not known.
    static func variableNames(className: String, config c: JSONObject, count: Int) -> [String]? {
        let bias = c["use_bias"]?.boolValue ?? true
        switch className {
        case "BatchNormalization", "SyncBatchNormalization":
            var names: [String] = []
            if c["scale"]?.boolValue ?? true { names.append("gamma") }
            if c["center"]?.boolValue ?? true { names.append("beta") }
            return names + ["moving_mean", "moving_variance"]
        case _ where className.hasPrefix("SeparableConv"):
            return ["depthwise_kernel", "pointwise_kernel"] + (bias ? ["bias"] : [])
        case _ where className.hasPrefix("DepthwiseConv"):
            return ["kernel"] + (bias ? ["bias"] : [])
        case _ where className == "Dense" || className.hasPrefix("Conv") || className.hasPrefix("Deconv"):
            return ["kernel"] + (bias ? ["bias"] : [])
        case "Normalization":
            return count == 3 ? ["mean", "variance", "count"] : nil
        default:
            return nil
        }
    }
}
