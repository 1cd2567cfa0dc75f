import BNConvCore

/// How each BatchNorm of a ``Model`` and its parameters are named, shaped and configured in the
/// conventions of other frameworks, for mapping checkpoints by hand or checking a conversion.
///
/// | convention | parameters (C = channels) | hyper-parameters |
/// | --- | --- | --- |
/// | torch | `<m>.weight`, `<m>.bias`, `<m>.running_mean`, `<m>.running_var` [C]; `<m>.num_batches_tracked` [] int64 | `eps`; `momentum = 1 - keras momentum` |
/// | onnx | BatchNormalization inputs `scale`, `B`, `input_mean`, `input_var` [C] | `epsilon` (default 1e-5: write it), `momentum` = keras momentum |
/// | keras | `<layer>/gamma`, `beta`, `moving_mean`, `moving_variance` [C] | `epsilon` (default 1e-3), `momentum` (default 0.99) |
/// | slim | `<scope>/BatchNorm/gamma|beta|moving_mean|moving_variance` [C], scope = the producing layer | `epsilon` (default 1e-3), `decay` = keras momentum |
/// | caffe | BatchNorm blobs `mean`, `variance` [C], `scale_factor` [1]; a Scale layer with `gamma`, `beta` [C] | `eps` (default 1e-5), `moving_average_fraction` = keras momentum |
///
/// `<m>` is the layer name with `/` (nesting) replaced by `.`. PyTorch's momentum weighs the new
/// batch (`running = (1 - m) * running + m * batch`), the others weigh the old value; PyTorch (and
/// TensorFlow's fused 4-D kernel) feed the moving variance the unbiased batch variance, Keras 3 the
/// biased one (docs/math.md, BatchNorm): the stored values are the same numbers either way.
public struct BatchNormNaming: Codable, Equatable, Sendable {
    /// A naming convention.
    public enum Convention: String, CaseIterable, Codable, Sendable {
        /// PyTorch `nn.BatchNorm*d` state-dict keys.
        case torch
        /// ONNX `BatchNormalization` inputs.
        case onnx
        /// Keras `BatchNormalization` weights.
        case keras
        /// TF-Slim `batch_norm` variables under the producing layer's scope.
        case slim
        /// Caffe `BatchNorm` blobs plus a `Scale` layer.
        case caffe
    }

    /// One named parameter of a BatchNorm.
    public struct Parameter: Codable, Equatable, Sendable {
        /// The bnconv role (gamma, beta, moving_mean, moving_variance, or a convention-only extra).
        public var role: String
        /// The name in the convention.
        public var name: String
        /// Its shape.
        public var shape: [Int]
        /// Its dtype.
        public var dtype: String
        /// What the value is when the convention has it but the model does not (e.g. "ones").
        public var note: String?
    }

    /// One BatchNorm in the convention.
    public struct Entry: Codable, Equatable, Sendable {
        /// The BatchNorm node's name in the model.
        public var layer: String
        /// The node that writes its input, if any.
        public var producer: String?
        /// The nodes that read its output.
        public var consumers: [String]
        /// The module, scope or layer name the convention files the parameters under.
        public var scope: String
        /// The parameters, in the convention's order.
        public var parameters: [Parameter]
        /// Hyper-parameters by the convention's names (epsilon, momentum, decay, ...).
        public var hyperparameters: [String: Double]
        /// Conventions notes (momentum translation, variance flavour, defaults to override).
        public var notes: [String]
    }

    /// The convention.
    public var convention: Convention
    /// Every BatchNorm, in topological order.
    public var entries: [Entry]

    /// Names every BatchNorm of `model` in `convention`.
    public init(model: Model, convention: Convention) {
        self.convention = convention
        entries = model.batchNormIndices.map { BatchNormNaming.entry(model, $0, convention) }
    }

    /// The PyTorch module name of a layer (`/` nesting becomes `.`).
    public static func torchModule(_ layer: String) -> String {
        layer.replacingOccurrences(of: "/", with: ".")
    }

    private static func entry(_ model: Model, _ index: Int, _ convention: Convention) -> Entry {
        let node = model.nodes[index]
        guard case .batchNorm(let bn) = node.op else { preconditionFailure("not a BatchNorm") }
        let producer = node.inputs.first.flatMap { model.producerIndex(of: $0) }.map { model.nodes[$0].name }
        let consumers = node.outputs.flatMap { model.consumerIndices(of: $0) }.map { model.nodes[$0].name }
        let reference = node.weight(.movingMean) ?? node.weight(.gamma)
        let channels = reference?.tensor.count ?? 0
        let dtype = reference?.tensor.dtype.rawValue ?? "float32"
        func p(_ role: WeightRole, _ name: String, extra: String? = nil) -> Parameter {
            let w = node.weight(role)
            var note = extra
            if w == nil && note == nil { note = role == .gamma ? "ones (scale=False)" : role == .beta ? "zeros (center=False)" : "absent" }
            return Parameter(role: role.rawValue, name: name, shape: w?.tensor.shape ?? [channels], dtype: w?.tensor.dtype.rawValue ?? dtype, note: note)
        }
        let varianceNote = "stored moving variance used as-is; PyTorch updates it with the unbiased batch variance, Keras 3 with the biased one"
        switch convention {
        case .torch:
            let m = torchModule(node.name)
            return Entry(layer: node.name, producer: producer, consumers: consumers, scope: m, parameters: [
                p(.gamma, "\(m).weight"), p(.beta, "\(m).bias"), p(.movingMean, "\(m).running_mean"),
                p(.movingVariance, "\(m).running_var", extra: varianceNote),
                Parameter(role: "num_batches_tracked", name: "\(m).num_batches_tracked", shape: [], dtype: "int64", note: "0"),
            ], hyperparameters: ["eps": bn.epsilon, "momentum": 1 - bn.momentum],
               notes: ["momentum = 1 - keras momentum (\(bn.momentum)): PyTorch weighs the new batch"])
        case .onnx:
            return Entry(layer: node.name, producer: producer, consumers: consumers, scope: node.name, parameters: [
                p(.gamma, "\(node.name).scale"), p(.beta, "\(node.name).B"), p(.movingMean, "\(node.name).input_mean"),
                p(.movingVariance, "\(node.name).input_var"),
            ], hyperparameters: ["epsilon": bn.epsilon, "momentum": bn.momentum],
               notes: ["ONNX's epsilon default is 1e-5: the attribute is always written", "normalizes axis 1 (channels-first)"])
        case .keras:
            return Entry(layer: node.name, producer: producer, consumers: consumers, scope: node.name, parameters: [
                p(.gamma, "\(node.name)/gamma"), p(.beta, "\(node.name)/beta"), p(.movingMean, "\(node.name)/moving_mean"),
                p(.movingVariance, "\(node.name)/moving_variance"),
            ], hyperparameters: ["epsilon": bn.epsilon, "momentum": bn.momentum, "axis": Double(bn.axis)], notes: [])
        case .slim:
            let scope = "\(producer ?? node.name)/BatchNorm"
            return Entry(layer: node.name, producer: producer, consumers: consumers, scope: scope, parameters: [
                p(.gamma, "\(scope)/gamma"), p(.beta, "\(scope)/beta"), p(.movingMean, "\(scope)/moving_mean"),
                p(.movingVariance, "\(scope)/moving_variance"),
            ], hyperparameters: ["epsilon": bn.epsilon, "decay": bn.momentum],
               notes: ["decay = keras momentum", "scope is the producing layer's (slim's conv2d(normalizer_fn=batch_norm))"])
        case .caffe:
            return Entry(layer: node.name, producer: producer, consumers: consumers, scope: node.name, parameters: [
                p(.movingMean, "\(node.name).blobs[0] mean"), p(.movingVariance, "\(node.name).blobs[1] variance"),
                Parameter(role: "scale_factor", name: "\(node.name).blobs[2] scale_factor", shape: [1], dtype: dtype,
                          note: "1 (caffe divides mean and variance by it)"),
                p(.gamma, "\(node.name)_scale.blobs[0] gamma"), p(.beta, "\(node.name)_scale.blobs[1] beta"),
            ], hyperparameters: ["eps": bn.epsilon, "moving_average_fraction": bn.momentum],
               notes: ["a Scale layer '\(node.name)_scale' (bias_term: true) carries gamma and beta",
                       "caffe's eps default is 1e-5: set it", "moving_average_fraction = keras momentum"])
        }
    }
}
