import BNConvCore

/// What a ``Node`` computes, with its typed attributes.
///
/// Axes (`axis`, `axes`) count the batch dimension, as Keras and TensorFlow do, and are stored
/// as written (possibly negative); resolve them against a rank with ``Op/resolveAxis(_:rank:)``.
public enum Op: Equatable, Sendable {
    /// A model input (a placeholder); no inputs, one output.
    case input
    /// Convolution (1-D, 2-D or 3-D), grouped or not.
    case conv(Convolution)
    /// Depthwise convolution: each input channel convolved with `depthMultiplier` filters.
    case depthwiseConv(Convolution)
    /// Depthwise convolution followed by a 1x1 pointwise convolution (Keras SeparableConv).
    case separableConv(Convolution)
    /// Transposed convolution (Keras ConvNDTranspose, TF Conv2DBackpropInput, ONNX ConvTranspose).
    case convTranspose(Convolution)
    /// Fully connected layer on the last axis (Keras Dense, MatMul, Gemm).
    case dense(Dense)
    /// Batch normalization over one channel axis.
    case batchNorm(BatchNorm)
    /// An element-wise activation.
    case activation(Activation)
    /// Max or average pooling over the spatial axes.
    case pool(Pool)
    /// Global max or average pooling over every spatial axis.
    case globalPool(GlobalPool)
    /// Element-wise combination of two or more same-shaped (or broadcastable) inputs.
    case elementwise(ElementwiseKind)
    /// Concatenation along `axis`.
    case concat(axis: Int)
    /// Flatten every axis after the batch into one (in the value's memory order).
    case flatten
    /// Reshape every axis after the batch to `targetShape` (one entry may be -1).
    case reshape(targetShape: [Int])
    /// Permute the axes after the batch; `permutation` is 1-based as in Keras `Permute`.
    case permute(permutation: [Int])
    /// Zero (or constant) padding of the spatial axes: `(before, after)` per spatial axis.
    case pad(padding: [Pair], layout: DataLayout)
    /// Cropping of the spatial axes: `(before, after)` per spatial axis.
    case crop(cropping: [Pair], layout: DataLayout)
    /// Nearest or bilinear upsampling of the spatial axes by integer factors.
    case upsample(size: [Int], interpolation: String, layout: DataLayout)
    /// `y = x * scale + offset` (Keras Rescaling), scalars or per-channel vectors.
    case rescaling(scale: [Double], offset: [Double])
    /// `(x - mean) / sqrt(variance)` per channel (Keras Normalization); mean and variance are weights.
    case normalization(axis: [Int])
    /// A training-only layer (Dropout, GaussianNoise, ...) or an explicit identity: passes its input.
    case identity
    /// Softmax along `axis`.
    case softmax(axis: Int)
    /// An op of the op library, with ONNX operator semantics (``TensorOp``): everything a real
    /// graph holds beside the CNN layers above (shape arithmetic, broadcasting math, reductions,
    /// slicing, the forms of a layer the typed cases do not express).
    case tensor(TensorOp)
    /// An op the library does not model; kept with its source record so it survives a round trip.
    case opaque(type: String)

    /// A non-negative axis for a tensor of `rank` dimensions.
    public static func resolveAxis(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }
}

/// A `(before, after)` pair of padding or cropping along one axis.
public struct Pair: Equatable, Sendable, Codable {
    /// Amount before (top / left / front).
    public var before: Int
    /// Amount after (bottom / right / back).
    public var after: Int
    /// Creates a pair.
    public init(_ before: Int, _ after: Int) { self.before = before; self.after = after }
}

/// How a convolution or pooling window handles borders.
public enum Padding: Equatable, Sendable {
    /// No padding.
    case valid
    /// TensorFlow SAME: output = ceil(input / stride); the odd pixel goes after (bottom/right).
    case same
    /// Causal (Conv1D): all padding before.
    case causal
    /// Explicit `(before, after)` per spatial axis (ONNX pads).
    case explicit([Pair])
}

/// Attributes shared by every convolution kind.
public struct Convolution: Equatable, Sendable {
    /// Number of spatial dimensions: 1, 2 or 3.
    public var rank: Int
    /// Output channels (for depthwise: input channels x depthMultiplier, when known).
    public var filters: Int
    /// Window size per spatial axis.
    public var kernelSize: [Int]
    /// Stride per spatial axis.
    public var strides: [Int]
    /// Dilation per spatial axis.
    public var dilations: [Int]
    /// Border handling.
    public var padding: Padding
    /// Channel groups (1 = dense convolution).
    public var groups: Int
    /// Depth multiplier (depthwise and separable convolutions).
    public var depthMultiplier: Int
    /// Extra output rows/columns of a transposed convolution (Keras `output_padding`).
    public var outputPadding: [Int]?
    /// Whether the op adds a bias (a fold may turn this on).
    public var useBias: Bool
    /// The activation applied inside the layer (Keras `activation=`); `.linear` for none.
    public var activation: Activation
    /// The activation layout the op reads and writes.
    public var layout: DataLayout

    /// Creates convolution attributes; unspecified strides and dilations are 1.
    public init(rank: Int, filters: Int, kernelSize: [Int], strides: [Int]? = nil, dilations: [Int]? = nil,
                padding: Padding = .valid, groups: Int = 1, depthMultiplier: Int = 1,
                outputPadding: [Int]? = nil, useBias: Bool = true, activation: Activation = .linear,
                layout: DataLayout = .channelsLast) {
        self.rank = rank
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides ?? Array(repeating: 1, count: rank)
        self.dilations = dilations ?? Array(repeating: 1, count: rank)
        self.padding = padding
        self.groups = groups
        self.depthMultiplier = depthMultiplier
        self.outputPadding = outputPadding
        self.useBias = useBias
        self.activation = activation
        self.layout = layout
    }
}

/// Attributes of a fully connected layer.
public struct Dense: Equatable, Sendable {
    /// Output features.
    public var units: Int
    /// Whether the op adds a bias.
    public var useBias: Bool
    /// The activation applied inside the layer; `.linear` for none.
    public var activation: Activation
    /// Creates dense attributes.
    public init(units: Int, useBias: Bool = true, activation: Activation = .linear) {
        self.units = units
        self.useBias = useBias
        self.activation = activation
    }
}

/// Attributes of a batch normalization (docs/math.md, BatchNorm).
public struct BatchNorm: Equatable, Sendable {
    /// Added to the variance before the square root.
    public var epsilon: Double
    /// Keras momentum: `moving = moving * momentum + batch * (1 - momentum)`.
    public var momentum: Double
    /// The channel axis (batch included; may be negative).
    public var axis: Int
    /// Whether a beta (offset) is applied; false means beta = 0.
    public var center: Bool
    /// Whether a gamma (scale) is applied; false means gamma = 1.
    public var scale: Bool
    /// Whether the layer runs in training mode at inference (a TF FusedBatchNorm with
    /// `is_training`, an ONNX `training_mode=1`); such a BN is never folded.
    public var training: Bool
    /// Whether the layer's weights may be updated (Keras `trainable`); `false` means inference mode.
    public var trainable: Bool
    /// Creates batch-norm attributes with Keras defaults.
    public init(epsilon: Double = 1e-3, momentum: Double = 0.99, axis: Int = -1, center: Bool = true,
                scale: Bool = true, training: Bool = false, trainable: Bool = true) {
        self.epsilon = epsilon
        self.momentum = momentum
        self.axis = axis
        self.center = center
        self.scale = scale
        self.training = training
        self.trainable = trainable
    }
}

/// Max or average pooling attributes.
public struct Pool: Equatable, Sendable {
    /// Max or average.
    public enum Kind: String, Sendable { case max, average }
    /// Max or average.
    public var kind: Kind
    /// Window size per spatial axis.
    public var poolSize: [Int]
    /// Stride per spatial axis.
    public var strides: [Int]
    /// Border handling (average pooling excludes padded cells, as TensorFlow does).
    public var padding: Padding
    /// The activation layout.
    public var layout: DataLayout
    /// Creates pooling attributes.
    public init(kind: Kind, poolSize: [Int], strides: [Int], padding: Padding, layout: DataLayout = .channelsLast) {
        self.kind = kind
        self.poolSize = poolSize
        self.strides = strides
        self.padding = padding
        self.layout = layout
    }
}

/// Global pooling attributes.
public struct GlobalPool: Equatable, Sendable {
    /// Max or average.
    public var kind: Pool.Kind
    /// Whether the spatial axes are kept with size 1.
    public var keepDims: Bool
    /// The activation layout.
    public var layout: DataLayout
    /// Creates global pooling attributes.
    public init(kind: Pool.Kind, keepDims: Bool = false, layout: DataLayout = .channelsLast) {
        self.kind = kind
        self.keepDims = keepDims
        self.layout = layout
    }
}

/// Element-wise merges of several inputs.
public enum ElementwiseKind: String, Sendable {
    /// Sum of inputs.
    case add
    /// First minus second.
    case subtract
    /// Product of inputs.
    case multiply
    /// Element-wise maximum.
    case maximum
    /// Element-wise minimum.
    case minimum
    /// Mean of inputs.
    case average
}

/// Element-wise activation functions, with TensorFlow/Keras definitions.
public enum Activation: Equatable, Sendable {
    /// Identity.
    case linear
    /// `min(max(x, threshold)...)`: Keras ReLU with `max_value`, `threshold`, `negative_slope`.
    case relu(maxValue: Double? = nil, threshold: Double = 0, negativeSlope: Double = 0)
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `x >= 0 ? x : alpha * x`.
    case leakyRelu(alpha: Double)
    /// `x > 0 ? x : alpha * (exp(x) - 1)`.
    case elu(alpha: Double)
    /// `1 / (1 + exp(-x))`.
    case sigmoid
    /// Keras 3 / TF hard sigmoid: `clip(x / 6 + 0.5, 0, 1)`; tf_keras's is `clip(0.2 x + 0.5, 0, 1)`.
    case hardSigmoid(slope: Double, offset: Double)
    /// `x * sigmoid(x)` (swish, silu).
    case swish
    /// `x * relu6(x + 3) / 6`.
    case hardSwish
    /// Hyperbolic tangent.
    case tanh
    /// Gaussian error linear unit; `approximate` selects the tanh form.
    case gelu(approximate: Bool)
    /// Softmax along the last axis (as a layer activation).
    case softmax
    /// `log(1 + exp(x))`.
    case softplus
    /// `x / (1 + |x|)`.
    case softsign
    /// `exp(x)`.
    case exponential
    /// `x > 0 ? scale * x : scale * alpha * (exp(x) - 1)` with SELU's constants.
    case selu
    /// `x * tanh(softplus(x))`.
    case mish

    /// Whether the activation is the identity (nothing stands between a producer and its BN).
    public var isLinear: Bool { self == .linear }
}

extension Op {
    /// Why this op's window or extent (kernel size, strides, dilations, pool size, padding,
    /// cropping, upsampling size) cannot be computed with, or nil when every entry is in range (a
    /// damaged file can declare a stride of 0 or a padding of -5).
    public var windowProblem: String? {
        // Window sizes are bounded too: a pool size or dilation of 2^62 overflowed the kernels'
        // arithmetic (a trap), and no real window is larger than 2^31 - 1.
        func check(_ name: String, _ values: [Int]) -> String? {
            values.allSatisfy({ $0 >= 1 && $0 <= Int(Int32.max) }) ? nil : "declares \(name) \(values); each must be from 1 to \(Int32.max)"
        }
        switch self {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c):
            return check("kernel size", c.kernelSize) ?? check("strides", c.strides) ?? check("dilations", c.dilations)
                ?? check("groups", [c.groups])
        case .pool(let p):
            return check("pool size", p.poolSize) ?? check("strides", p.strides)
        case .pad(let padding, _):
            let values = padding.flatMap { [$0.before, $0.after] }
            return values.allSatisfy({ $0 >= 0 }) ? nil : "declares padding \(values); each must be at least 0"
        case .crop(let cropping, _):
            let values = cropping.flatMap { [$0.before, $0.after] }
            return values.allSatisfy({ $0 >= 0 }) ? nil : "declares cropping \(values); each must be at least 0"
        case .upsample(let size, _, _):
            return check("upsampling size", size)
        case .permute(let permutation):
            // Keras `Permute.dims`: the axes after the batch, numbered from 1, each once.
            return permutation.sorted() == Array(1..<(permutation.count + 1)) ? nil
                : "declares the permutation \(permutation); it must order the axes 1...\(permutation.count), each once"
        case .reshape(let target):
            guard target.allSatisfy({ $0 >= -1 && $0 <= Int(Int32.max) }), target.filter({ $0 == -1 }).count <= 1 else {
                return "declares the target shape \(target); each size must be from 0 to \(Int32.max), or -1 once"
            }
            return nil
        default:
            return nil
        }
    }
}
