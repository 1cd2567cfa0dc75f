import Foundation
import BNConvCore
import BNConvModel

/// Looks over every BatchNorm of a model for what deserves a warning though nothing refuses it
/// (`bnconv inspect` lists the warnings under each BN, `bnconv fold` prints them). Each warning has
/// a stable ``BatchNormWarning/Code``; the rules, all on the values as stored:
///
/// - `stale-moving-statistics`: the moving mean is exactly 0 and the moving variance exactly 1 in
///   every channel (their initial values) while gamma is not 1 or beta not 0 somewhere (of those
///   the BN applies): the layer was trained but its moving-average updates never ran. A BN still
///   all at its initial values (gamma 1, beta 0 too) is a fresh layer: it computes the exact map
///   `x / sqrt(1 + epsilon)`, and a freshly built model would warn on every BN, so it gets none.
/// - `non-finite-statistics`: NaN or infinity in gamma, beta, the moving mean or the moving variance.
/// - `negative-variance`: a finite moving variance below 0 in some channel; where it is at or below
///   -epsilon the BN computes NaN (and is not folded), above it the output is finite but wrong.
/// - `zero-variance`: a moving variance of exactly 0 in some channel: a dead channel or statistics
///   never gathered; with epsilon > 0 the output stays finite (the message says so).
/// - `float16-overflow`: folding into the layer the planner picks (when the overflow itself is set
///   aside) would write a kernel or bias value beyond the largest value of that weight's float16
///   or bfloat16 dtype, computed in Double as the fold computes it; the planner
///   refuses that fold. Values that would flush to zero are not reported: a channel whose folded
///   kernel is below float16's smallest subnormal (6e-8) contributes less than float16 resolves
///   at the scale of the values it is added to, and fold's verification measures the effect.
/// - `batch-statistics`: the BN normalizes with each batch's statistics
///   (``BatchNorm/training``: a TensorFlow FusedBatchNorm with `is_training`, an ONNX
///   BatchNormalization in training mode), which in an inference graph makes one sample's output
///   depend on the others in its batch; not for a BN no model output depends on (it never runs:
///   the training branch of a `tf.cond` on a `training` flag that defaults to false).
///
/// A BN whose statistics cannot be read, or are missing or of the wrong length, gets no statistics
/// warning: the fold planner's reason names that.
public struct BatchNormDiagnosis {
    /// The model looked over.
    public let model: Model

    /// Creates the diagnosis of `model`.
    public init(model: Model) {
        self.model = model
    }

    /// Every warning, BN by BN in topological order.
    public func warnings() -> [BatchNormWarning] {
        let overflows = foldOverflowWarnings()
        // A BN no output depends on never runs (an untaken tf.cond branch): its mode does not matter.
        let untaken = FoldPlanner.untakenBranches(of: model)
        var out: [BatchNormWarning] = []
        for i in model.batchNormIndices {
            let node = model.nodes[i]
            guard case .batchNorm(let bn) = node.op else { continue }
            if bn.training, untaken[i] == nil { out.append(batchStatistics(node)) }
            if let p = try? BatchNormParameters(node: node, attributes: bn), p.channels > 0 {
                out += statisticsWarnings(node.name, p, bn: bn)
            }
            if let overflow = overflows[node.name] { out.append(overflow) }
        }
        return out
    }

    // MARK: Statistics

    /// The warnings about one BN's stored vectors.
    private func statisticsWarnings(_ name: String, _ p: BatchNormParameters, bn: BatchNorm) -> [BatchNormWarning] {
        var out: [BatchNormWarning] = []
        let n = p.channels
        // NaN or infinity, role by role.
        var nonFinite: [String] = []
        for (role, values) in p.byRole {
            let bad = values.indices.filter { !values[$0].isFinite }
            guard let first = bad.first else { continue }
            nonFinite.append("\(role) \(Self.channels(bad.count, of: n, first: first, detail: Self.number(values[first])))")
        }
        if !nonFinite.isEmpty {
            out.append(BatchNormWarning(batchNorm: name, code: .nonFiniteStatistics, message:
                "\(name)'s statistics hold NaN or infinity: \(nonFinite.joined(separator: "; ")). The BN outputs NaN or infinity in those channels, and bnconv does not fold it."))
        }
        let variance = p.variance
        // Negative variance.
        let negative = variance.indices.filter { variance[$0].isFinite && variance[$0] < 0 }
        if let first = negative.first {
            let lowest = negative.map { variance[$0] }.min() ?? variance[first]
            let undefined = negative.filter { variance[$0] + p.epsilon <= 0 }.count
            var message = "\(name)'s moving_variance is negative \(Self.channels(negative.count, of: n, first: first, detail: "lowest \(Self.number(lowest))")), which no variance can be: its statistics are damaged."
            if undefined > 0 {
                message += " In \(undefined == negative.count ? (undefined == 1 ? "that channel" : "all of them") : "\(undefined) of them") variance + epsilon (\(Self.number(p.epsilon))) is not positive: the BN takes the square root of a negative number (or divides by zero) and outputs NaN (or infinity) there, and bnconv does not fold it."
            } else {
                message += " Variance + epsilon (\(Self.number(p.epsilon))) stays positive, so the output is finite, but scaled by a variance that cannot be right."
            }
            out.append(BatchNormWarning(batchNorm: name, code: .negativeVariance, message: message))
        }
        // Zero variance.
        let zero = variance.indices.filter { variance[$0] == 0 }
        if let first = zero.first {
            var message = "\(name)'s moving_variance is exactly 0 \(Self.channels(zero.count, of: n, first: first)): those inputs never varied (a dead channel, say after a ReLU that never fires) or their statistics were never gathered."
            if p.epsilon > 0 {
                let largest = zero.map { abs(p.gamma[$0]) }.filter(\.isFinite).max() ?? 0
                message += " With epsilon \(Self.number(p.epsilon)) the BN still divides by sqrt(epsilon) = \(Self.number(p.epsilon.squareRoot())), so its output stays finite, scaled there by up to \(Self.number(largest / p.epsilon.squareRoot())) (|gamma| / sqrt(epsilon))."
            } else {
                message += " With epsilon \(Self.number(p.epsilon)) the BN divides by zero there: its output is infinite or NaN, and bnconv does not fold it."
            }
            out.append(BatchNormWarning(batchNorm: name, code: .zeroVariance, message: message))
        }
        // Moving statistics still at their initial values while gamma or beta moved.
        if p.mean.allSatisfy({ $0 == 0 }) && variance.allSatisfy({ $0 == 1 }) {
            var trained: [String] = []
            if bn.scale, p.gamma.contains(where: { $0 != 1 }) { trained.append("gamma (\(Self.range(p.gamma)))") }
            if bn.center, p.beta.contains(where: { $0 != 0 }) { trained.append("beta (\(Self.range(p.beta)))") }
            if !trained.isEmpty {
                let all = n == 1 ? "in its one channel" : "in all \(n) channels"
                out.append(BatchNormWarning(batchNorm: name, code: .staleMovingStatistics, message:
                    "\(name)'s moving_mean is 0 and moving_variance 1 \(all) (their initial values) while its \(trained.joined(separator: " and ")) \(trained.count == 1 ? "was" : "were") trained: the moving-average updates never ran, so inference normalizes with mean 0 and variance 1 instead of its inputs' statistics. `bnconv recalibrate` with sample inputs estimates them."))
            }
        }
        return out
    }

    /// The warning of a BN that normalizes with batch statistics.
    private func batchStatistics(_ node: Node) -> BatchNormWarning {
        let how: String
        switch model.format {
        case .graphDef: how = "its is_training is true"
        case .onnx: how = "it runs in ONNX training mode"
        default: how = "it runs in training mode"
        }
        var message = "\(node.name) normalizes with the mean and variance of each batch (\(how)), not with stored moving statistics, so at inference one sample's output depends on the other samples in its batch; bnconv does not fold it."
        if AssumeInference.hasStoredStatistics(node) {
            message += " If the graph is meant for inference, `bnconv fold --assume-inference` folds it with its stored statistics."
        }
        return BatchNormWarning(batchNorm: node.name, code: .batchStatistics, message: message)
    }

    // MARK: Half-precision folds

    /// `float16-overflow` warnings by BN name: where each BN would fold (the planner's choice with
    /// overflow set aside), the folded values beyond the target weight's dtype. Planned only when
    /// some layer holds a float16 or bfloat16 weight.
    private func foldOverflowWarnings() -> [String: BatchNormWarning] {
        let halfLayers = model.nodes.contains { node in
            switch node.op {
            case .conv, .depthwiseConv, .separableConv, .convTranspose, .dense:
                return node.weights.contains { FoldOverflow.checks($0.tensor.dtype) }
            default:
                return false
            }
        }
        guard halfLayers, !model.batchNormIndices.isEmpty else { return [:] }
        var planner = FoldPlanner(model: model)
        planner.checksFoldOverflow = false
        var out: [String: BatchNormWarning] = [:]
        for decision in planner.plan() {
            guard let targetName = decision.target, let direction = decision.direction,
                  let bnNode = model.node(named: decision.batchNorm), case .batchNorm(let bn) = bnNode.op,
                  let target = model.node(named: targetName),
                  let affine = try? BatchNormAffine(node: bnNode, attributes: bn),
                  let found = Self.overflow(folding: affine, into: target, direction: direction) else { continue }
            out[bnNode.name] = overflowWarning(bnNode.name, affine: affine, target: targetName, direction: direction, found)
        }
        return out
    }

    /// What folding `affine` into `target` would write beyond range, found as ``FoldBatchNorm``
    /// would scale it (the pointwise kernel of a separable conv, a grouped transposed conv's groups).
    private static func overflow(folding affine: BatchNormAffine, into target: Node,
                                 direction: FoldDecision.Direction) -> FoldOverflow? {
        switch direction {
        case .intoProducer:
            var groups = 1
            var role = WeightRole.kernel
            switch target.op {
            case .separableConv: role = .pointwiseKernel
            case .convTranspose(let c): groups = c.groups
            default: break
            }
            guard let kernel = target.weight(role), FoldOverflow.mayOverflow(target, kernel: kernel),
                  let view = ChannelView.output(of: kernel.layout, shape: kernel.tensor.shape, groups: groups),
                  view.totalChannels == affine.channels else { return nil }
            return FoldOverflow.intoProducer(target, kernel: kernel, view: view, affine: affine)
        case .intoConsumer:
            guard let kernel = target.weight(.kernel), FoldOverflow.mayOverflow(target, kernel: kernel) else { return nil }
            return FoldOverflow.intoConsumer(target, kernel: kernel, affine: affine)
        }
    }

    /// The `float16-overflow` warning of one BN.
    private func overflowWarning(_ name: String, affine: BatchNormAffine, target: String,
                                 direction: FoldDecision.Direction, _ found: FoldOverflow) -> BatchNormWarning {
        let worst = found.worst
        let into = direction == .intoProducer ? target : "the next layer \(target)"
        let limit = String(format: "%.6g", FoldOverflow.largestFinite(worst.dtype))
        var message = "folding \(name) into \(into) would write values beyond \(worst.dtype.rawValue)'s largest value (\(limit)): "
        if found.count == 1 {
            message += "\(target)'s \(worst.role) \(Self.number(worst.value)) at element \(worst.index); written as \(worst.dtype.rawValue) it would be infinity"
        } else {
            let spread = found.channels > 0 ? " in \(found.channels) of \(affine.channels) channels" : ""
            message += "\(target)'s \(worst.role) up to \(Self.number(worst.value)) (element \(worst.index)), \(found.count) values\(spread); written as \(worst.dtype.rawValue) they would be infinity"
        }
        message += ", so bnconv does not fold it there."
        if let c = affine.scale.indices.max(by: { abs(affine.scale[$0]) < abs(affine.scale[$1]) }) {
            message += " Its scale gamma / sqrt(variance + epsilon) reaches \(Self.number(affine.scale[c])) at channel \(c)."
        }
        return BatchNormWarning(batchNorm: name, code: .float16Overflow, message: message)
    }

    // MARK: Wording

    /// "in all 16 channels", "in 3 of 16 channels (first: channel 2)", "in its one channel", with
    /// `detail` in the parentheses ("in 3 of 16 channels (first: channel 2, nan)").
    static func channels(_ count: Int, of total: Int, first: Int, detail: String? = nil) -> String {
        if count == total {
            return (total == 1 ? "in its one channel" : "in all \(total) channels") + (detail.map { " (\($0))" } ?? "")
        }
        return "in \(count) of \(total) channels (first: channel \(first)" + (detail.map { ", \($0)" } ?? "") + ")"
    }

    /// A number with four significant digits ("0.001", "6.55e+04", "nan").
    static func number(_ x: Double) -> String { String(format: "%.4g", x) }

    /// "min to max" of `values`, or the one value when all are equal.
    static func range(_ values: [Double]) -> String {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return "not finite" }
        return lo == hi ? number(lo) : "\(number(lo)) to \(number(hi))"
    }
}
