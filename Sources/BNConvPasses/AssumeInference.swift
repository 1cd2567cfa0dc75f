import BNConvCore
import BNConvModel

/// Rewrites training-mode BatchNorms that store their moving statistics into inference form,
/// using those statistics (`bnconv fold --assume-inference`).
///
/// Before: `BN(training: true)` normalizes with the batch's own mean and variance (a frozen
/// TensorFlow graph whose FusedBatchNorm kept `is_training = true`, an ONNX BatchNormalization with
/// `training_mode = 1`). After: `BN(training: false)` normalizes with the stored moving mean and
/// variance. Precondition: the user asserts the model will only run inference. The rewritten model
/// is the reference a later fold is verified against, since its outputs differ from the
/// training-mode original by design. BNs without stored statistics are left as they are.
public enum AssumeInference {
    /// The model with every eligible training BN switched to inference, and their names.
    public static func apply(to model: Model) -> (model: Model, rewritten: [String]) {
        var model = model
        var rewritten: [String] = []
        for i in model.nodes.indices {
            guard case .batchNorm(var bn) = model.nodes[i].op, bn.training, hasStoredStatistics(model.nodes[i]) else { continue }
            bn.training = false
            model.nodes[i].op = .batchNorm(bn)
            rewritten.append(model.nodes[i].name)
        }
        return (model, rewritten)
    }

    /// Whether a BN node stores non-empty moving mean and variance.
    public static func hasStoredStatistics(_ node: Node) -> Bool {
        guard let mean = node.weight(.movingMean), let variance = node.weight(.movingVariance) else { return false }
        return mean.tensor.count > 0 && mean.tensor.count == variance.tensor.count
    }
}
