import BNConvCore

/// The part a weight plays in its node; the same roles serve every format.
public struct WeightRole: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The role's name, e.g. `kernel` or `moving_variance`.
    public var rawValue: String
    /// Wraps a role name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Convolution or dense weights.
    public static let kernel = WeightRole(rawValue: "kernel")
    /// The depthwise kernel of a SeparableConv.
    public static let depthwiseKernel = WeightRole(rawValue: "depthwise_kernel")
    /// The pointwise kernel of a SeparableConv.
    public static let pointwiseKernel = WeightRole(rawValue: "pointwise_kernel")
    /// Additive bias.
    public static let bias = WeightRole(rawValue: "bias")
    /// BN scale.
    public static let gamma = WeightRole(rawValue: "gamma")
    /// BN offset.
    public static let beta = WeightRole(rawValue: "beta")
    /// BN moving (running) mean.
    public static let movingMean = WeightRole(rawValue: "moving_mean")
    /// BN moving (running) variance.
    public static let movingVariance = WeightRole(rawValue: "moving_variance")
    /// Keras Normalization layer mean.
    public static let mean = WeightRole(rawValue: "mean")
    /// Keras Normalization layer variance.
    public static let variance = WeightRole(rawValue: "variance")
    /// Keras Normalization layer sample count.
    public static let count = WeightRole(rawValue: "count")

    /// The role's name.
    public var description: String { rawValue }
}

/// One stored weight of a node: its values, their layout, and where the file keeps them.
public struct Weight: Equatable, Sendable {
    /// The role the weight plays (kernel, gamma, ...).
    public var role: WeightRole
    /// The values, in the file's dtype.
    public var tensor: Tensor
    /// How the tensor's axes are laid out.
    public var layout: KernelLayout
    /// Where the file keeps it (an HDF5 dataset path, a Const node or initializer name).
    public var storageKey: String
    /// Whether a pass changed the values (writers re-emit only modified weights; others are copied).
    public var isModified: Bool
    /// Whether another node reads the same stored tensor (shared weights are never folded).
    public var isShared: Bool

    /// Creates a weight read from a file.
    public init(role: WeightRole, tensor: Tensor, layout: KernelLayout = .vector, storageKey: String,
                isModified: Bool = false, isShared: Bool = false) {
        self.role = role
        self.tensor = tensor
        self.layout = layout
        self.storageKey = storageKey
        self.isModified = isModified
        self.isShared = isShared
    }
}
