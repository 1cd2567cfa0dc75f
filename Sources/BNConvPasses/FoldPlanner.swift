import Foundation
import BNConvCore
import BNConvModel

/// Decides, for every BatchNormalization in a model, whether it can be folded and into what.
///
/// Before: `producer (conv/dense, linear) -> BN -> ...`. After: `producer' -> ...` with
/// `W' = W * s` along the producer's output channels and `b' = b * s + (beta - mean * s)`.
///
/// A fold into the producer is safe only when (docs/math.md, Folding; docs/prior-art.md):
/// the BN runs in inference mode; its statistics are stored, finite, with variance + epsilon > 0;
/// its input is written by a conv, depthwise, separable, transposed conv or dense node with no
/// activation of its own; that output feeds nothing but the BN (and is not a model output); the BN's
/// axis is the producer's channel axis; the channel counts agree; the producer's weights are not
/// shared and are floating point. Otherwise, a BN *before* an ungrouped conv or dense that pads
/// nothing folds into that op's input channels. Everything else is kept, with the reason.
public struct FoldPlanner {
    /// The model being planned.
    public let model: Model
    /// BN names the user asked to keep.
    public let keep: Set<String>
    /// Whether a producer's kernel still in its file is left for the writer to check for NaN and
    /// infinity (`FoldBatchNorm.checksDeferredKernelsWhenWritten`) instead of being read now.
    public let checksDeferredKernelsWhenWritten: Bool

    /// Creates a planner.
    public init(model: Model, keep: Set<String> = [], checksDeferredKernelsWhenWritten: Bool = false) {
        self.model = model
        self.keep = keep
        self.checksDeferredKernelsWhenWritten = checksDeferredKernelsWhenWritten
    }

    /// Whether a fold that would write infinities into a float16 or bfloat16 weight is refused
    /// (always, but for ``BatchNormDiagnosis``, which asks where a BN would fold regardless).
    var checksFoldOverflow = true

    /// Weight scans made ahead: empty, except in the copy of the planner ``plan()`` decides with.
    private var scan = NonFiniteWeightScan()
    /// The BatchNorms no model output depends on, by index, with the node their branch starts at
    /// (``untakenBranches(of:)``): empty, except in the copy ``plan()`` decides with.
    private var untaken: [Int: String] = [:]

    /// One decision per BatchNorm node, in topological order.
    public func plan() -> [FoldDecision] {
        // Kernels left to the writer are not scanned ahead; anything else the planner meets it scans itself.
        var scanned = self
        if !checksDeferredKernelsWhenWritten { scanned.scan = NonFiniteWeightScan(model: model) }
        scanned.untaken = FoldPlanner.untakenBranches(of: model)
        return model.batchNormIndices.map { scanned.decide(bnIndex: $0) }
    }

    /// For each BatchNorm no model output depends on (it never runs: the untaken branch of a
    /// TensorFlow `tf.cond` whose predicate is a constant), the node its branch starts at: the last
    /// node met walking up first inputs before one the outputs need.
    static func untakenBranches(of model: Model) -> [Int: String] {
        let needed = model.nodesTheOutputsNeed()
        guard needed.contains(false) else { return [:] }
        var producer = [String: Int]()
        for (i, node) in model.nodes.enumerated() { for o in node.outputs where producer[o] == nil { producer[o] = i } }
        var untaken = [Int: String]()
        for b in model.batchNormIndices where !needed[b] {
            var start = b
            for _ in model.nodes.indices {
                guard let x = model.nodes[start].inputs.first, let p = producer[x], !needed[p] else { break }
                start = p
            }
            untaken[b] = model.nodes[start].name
        }
        return untaken
    }

    /// The decision for the BN at `bnIndex`.
    func decide(bnIndex: Int) -> FoldDecision {
        let node = model.nodes[bnIndex]
        guard case .batchNorm(let bn) = node.op else {
            return .keep(node.name, because: "it is not a BatchNormalization")
        }
        if keep.contains(node.name) { return .keep(node.name, because: "kept on request (--keep)") }
        if let start = untaken[bnIndex] {
            return .keep(node.name, because: "it never runs: no model output depends on it (it is in the branch that starts at \(start), which no output reads)")
        }
        if bn.training {
            let hint = AssumeInference.hasStoredStatistics(node) ? " (--assume-inference folds it with its stored statistics)" : ""
            return .keep(node.name, because: "it runs in training mode (normalizes with batch statistics), so it is not a fixed per-channel affine map" + hint)
        }
        guard node.inputs.count == 1, node.outputs.count == 1 else {
            return .keep(node.name, because: "its statistics are computed at run time (\(node.inputs.count) inputs), not stored weights")
        }
        do {
            _ = try BatchNormAffine(node: node, attributes: bn)
        } catch {
            return .keep(node.name, because: "its statistics cannot be folded: \(error)")
        }
        switch producerTarget(bnIndex: bnIndex, bn: bn) {
        case .success(let p):
            return .fold(node.name, into: model.nodes[p].name, op: model.nodes[p].opName, direction: .intoProducer)
        case .failure(let producerReason):
            switch consumerTarget(bnIndex: bnIndex, bn: bn) {
            case .success(let c):
                return .fold(node.name, into: model.nodes[c].name, op: model.nodes[c].opName, direction: .intoConsumer)
            case .failure(let consumerReason):
                let reasons = [producerReason.message, consumerReason.message].compactMap { $0 }
                return .keep(node.name, because: reasons.joined(separator: "; "))
            }
        }
    }

    /// Why a fold direction is not possible; `message == nil` means "nothing worth saying".
    struct Refusal: Error {
        var message: String?
    }

    /// The node index the BN folds into as its producer, or why not.
    func producerTarget(bnIndex: Int, bn: BatchNorm) -> Result<Int, Refusal> {
        let node = model.nodes[bnIndex]
        var x = node.inputs[0]
        guard var p = model.producerIndex(of: x) else {
            return .failure(Refusal(message: "its input '\(x)' is not written by any layer"))
        }
        // Ops that pass values on unchanged at inference (Identity, Dropout, a float Cast), and one
        // per-channel constant Add, are seen through: the fold scales the layer behind them.
        var reader = bnIndex
        var sawBiasAdd = false
        while model.nodes[p].inputs.count == 1, model.nodes[p].outputs.count == 1 {
            let through = model.nodes[p]
            if case .identity = through.op {
                // passes values on
            } else if !sawBiasAdd, FoldPlanner.channelBias(of: through, channels: model.nodes[bnIndex].weight(.movingMean)?.tensor.count ?? -1,
                                                           axis: bn.axis, rank: valueRank(x)) != nil {
                // A per-channel constant added after the layer (paddle2onnx writes a ConvTranspose's
                // bias as an Add): the fold scales it too.
                sawBiasAdd = true
            } else {
                break
            }
            let others = model.consumerIndices(of: x).filter { $0 != reader }.map { model.nodes[$0].name }
            if !others.isEmpty || model.outputs.contains(x) {
                return .failure(Refusal(message: "\(through.name)'s output also feeds \(others.isEmpty ? "the model outputs" : others.joined(separator: ", ")); folding would change that branch too"))
            }
            reader = p
            x = through.inputs[0]
            guard let q = model.producerIndex(of: x) else {
                return .failure(Refusal(message: "its input '\(x)' is not written by any layer"))
            }
            p = q
        }
        let producer = model.nodes[p]
        if case .input = producer.op {
            return .failure(Refusal(message: "its input is the model input '\(producer.name)', with no layer before it to fold into"))
        }
        let channelAxis: Int
        let rank: Int
        let kernelRole: WeightRole
        var groups = 1
        switch producer.op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c):
            if !c.activation.isLinear {
                return .failure(Refusal(message: "\(producer.name) applies its own \(describe(c.activation)) activation before the BN"))
            }
            rank = valueRank(x) ?? c.rank + 2
            channelAxis = c.layout.channelAxis(rank: rank)
            if case .separableConv = producer.op { kernelRole = .pointwiseKernel } else { kernelRole = .kernel }
            if case .convTranspose = producer.op { groups = c.groups }
        case .dense(let d):
            if !d.activation.isLinear {
                return .failure(Refusal(message: "\(producer.name) applies its own \(describe(d.activation)) activation before the BN"))
            }
            rank = valueRank(x) ?? 2
            channelAxis = rank - 1
            kernelRole = .kernel
        case .activation(let a):
            let before = producer.inputs.first.flatMap { model.producerIndex(of: $0) }.map { model.nodes[$0].name }
            return .failure(Refusal(message: "a non-linear \(describe(a)) (\(producer.name)) stands between \(before ?? "its input") and the BN"))
        case .elementwise(let kind):
            return .failure(Refusal(message: "its input is the \(kind.rawValue) of \(producer.inputs.count) branches (\(producer.name)); folding would have to change every branch"))
        case .batchNorm:
            return .failure(Refusal(message: "its input is another BatchNorm (\(producer.name)) that stays"))
        default:
            return .failure(Refusal(message: "its input comes from \(producer.name) (\(producer.opName)), which is not a conv or dense layer"))
        }
        let others = model.consumerIndices(of: x).filter { $0 != reader }.map { model.nodes[$0].name }
        if !others.isEmpty {
            return .failure(Refusal(message: "\(producer.name)'s output also feeds \(others.joined(separator: ", ")); folding would change that branch too"))
        }
        if model.outputs.contains(x) {
            return .failure(Refusal(message: "\(producer.name)'s output is also a model output"))
        }
        let bnAxis = Op.resolveAxis(bn.axis, rank: rank)
        if bnAxis != channelAxis {
            return .failure(Refusal(message: "it normalizes axis \(bnAxis) but \(producer.name)'s channels are on axis \(channelAxis)"))
        }
        guard let kernel = producer.weight(kernelRole) else {
            return .failure(Refusal(message: "\(producer.name) has no stored \(kernelRole) weight"))
        }
        // The kernel a fold into the producer scales is checked when written, when that is asked for.
        let leftToWriter = checksDeferredKernelsWhenWritten && kernel.tensor.isDeferred && kernel.tensor.loadsConcurrently
        if let refusal = weightRefusal(producer, kernel, except: leftToWriter ? kernelRole : nil) { return .failure(refusal) }
        guard let view = ChannelView.output(of: kernel.layout, shape: kernel.tensor.shape, groups: groups) else {
            return .failure(Refusal(message: "\(producer.name)'s \(kernelRole) layout \(kernel.layout.rawValue) with shape \(kernel.tensor.shape) has no output-channel axis bnconv knows"))
        }
        let bnChannels = model.nodes[bnIndex].weight(.movingMean)?.tensor.count ?? -1
        if view.totalChannels != bnChannels {
            return .failure(Refusal(message: "it has \(bnChannels) channels but \(producer.name) writes \(view.totalChannels)"))
        }
        if let bias = producer.weight(.bias), bias.tensor.count != bnChannels {
            return .failure(Refusal(message: "\(producer.name)'s bias has \(bias.tensor.count) values, not \(bnChannels)"))
        }
        if let refusal = halfPrecisionOverflow(producer, kernel: kernel, bnIndex: bnIndex, bn: bn, direction: .intoProducer, view: view) {
            return .failure(refusal)
        }
        return .success(p)
    }

    /// The constant of `node` when it adds one value per channel along the BN's channel axis (an
    /// op-library `Add` of a weight shaped `(C, 1, ...)` against that axis), else nil.
    static func channelBias(of node: Node, channels: Int, axis: Int, rank: Int?) -> Weight? {
        guard case .tensor(let t) = node.op, t.type == "Add", node.weights.count == 1, node.inputs.count == 1,
              t.arguments.contains(.value(0)), let rank, channels > 0 else { return nil }
        let c = node.weights[0]
        guard !c.isShared, c.tensor.dtype.isFloatingPoint, c.tensor.count == channels, c.tensor.rank <= rank else { return nil }
        // Right-aligned against the value: every axis 1 but the channel axis.
        let channelAxis = Op.resolveAxis(axis, rank: rank)
        let offset = rank - c.tensor.rank
        for (i, d) in c.tensor.shape.enumerated() where d != 1 {
            guard i + offset == channelAxis, d == channels else { return nil }
        }
        return c
    }

    /// The node index the BN folds into as its consumer (a BN before an unpadded conv/dense), or why not.
    func consumerTarget(bnIndex: Int, bn: BatchNorm) -> Result<Int, Refusal> {
        let node = model.nodes[bnIndex]
        var u = node.outputs[0]
        var consumers = model.consumerIndices(of: u)
        // Seen through on the way: ops passing values on (Identity, Dropout, float Cast), and a
        // Flatten or Reshape to (batch, channels) of a value whose other axes are all 1 (after a
        // global pooling with keepdims): the BN's channels are then the next layer's inputs.
        var reshapedToChannels = false
        walk: while consumers.count == 1, !model.outputs.contains(u), model.nodes[consumers[0]].inputs == [u],
                    model.nodes[consumers[0]].outputs.count == 1 {
            let through = model.nodes[consumers[0]]
            switch through.op {
            case .identity:
                break
            case .flatten, .reshape:
                guard let inShape = model.values[u]?.shape, inShape.count >= 2 else { return .failure(Refusal(message: nil)) }
                let axis = Op.resolveAxis(bn.axis, rank: inShape.count)
                guard axis > 0, axis < inShape.count,
                      inShape.indices.allSatisfy({ $0 == 0 || $0 == axis || inShape[$0] == 1 }),
                      let outShape = model.values[through.outputs[0]]?.shape, outShape.count == 2,
                      outShape[1] != nil, outShape[1] == inShape[axis] else {
                    return .failure(Refusal(message: nil))
                }
                reshapedToChannels = true
            default:
                break walk
            }
            u = through.outputs[0]
            consumers = model.consumerIndices(of: u)
        }
        guard consumers.count == 1, !model.outputs.contains(u) else { return .failure(Refusal(message: nil)) }
        let c = consumers[0]
        let consumer = model.nodes[c]
        guard consumer.inputs == [u] else { return .failure(Refusal(message: nil)) }
        let rank: Int
        let channelAxis: Int
        switch consumer.op {
        case .conv(let conv):
            guard conv.groups == 1 else {
                return .failure(Refusal(message: "it cannot fold into the grouped conv \(consumer.name) after it"))
            }
            switch conv.padding {
            case .valid: break
            case .explicit(let pairs) where pairs.allSatisfy({ $0.before == 0 && $0.after == 0 }): break
            default:
                return .failure(Refusal(message: "it cannot fold into \(consumer.name) after it either: that conv pads with zeros the BN would not have normalized"))
            }
            rank = valueRank(u) ?? conv.rank + 2
            channelAxis = conv.layout.channelAxis(rank: rank)
        case .dense:
            rank = valueRank(u) ?? 2
            channelAxis = rank - 1
        default:
            return .failure(Refusal(message: nil))
        }
        if !reshapedToChannels && Op.resolveAxis(bn.axis, rank: rank) != channelAxis {
            return .failure(Refusal(message: "it cannot fold into \(consumer.name) after it: the BN axis is not its input-channel axis"))
        }
        guard let kernel = consumer.weight(.kernel) else { return .failure(Refusal(message: nil)) }
        if let refusal = weightRefusal(consumer, kernel) { return .failure(refusal) }
        guard let view = ChannelView.input(of: kernel.layout, shape: kernel.tensor.shape),
              view.channels == (node.weight(.movingMean)?.tensor.count ?? -1) else {
            return .failure(Refusal(message: "it cannot fold into \(consumer.name) after it: the channel counts differ"))
        }
        if let refusal = halfPrecisionOverflow(consumer, kernel: kernel, bnIndex: bnIndex, bn: bn, direction: .intoConsumer) {
            return .failure(refusal)
        }
        return .success(c)
    }

    /// Why a weight cannot be rewritten, or `nil` when it can. The weight of role `unscanned`, if
    /// any, is not scanned for NaN and infinity here (the writer checks it).
    private func weightRefusal(_ node: Node, _ weight: Weight, except unscanned: WeightRole? = nil) -> Refusal? {
        if weight.isShared || node.weights.contains(where: { $0.isShared }) {
            return Refusal(message: "\(node.name)'s weights are shared with another layer")
        }
        if !weight.tensor.dtype.isFloatingPoint {
            return Refusal(message: "\(node.name)'s \(weight.role) is \(weight.tensor.dtype.rawValue), not floating point")
        }
        // NaN or infinity in the layer itself would be spread into every folded channel and
        // written out; the BN is kept and the reason named instead.
        for w in node.weights where w.tensor.dtype.isFloatingPoint && w.role != unscanned {
            // A deferred weight is read (or lent by its file) for the check, and not kept.
            let found: Int?
            do {
                if let scanned = scan.result(node, w) { found = try scanned.get() } else { found = try w.tensor.firstNonFiniteIndex() }
            } catch {
                return Refusal(message: "\(node.name)'s \(w.role) cannot be read: \(error)")
            }
            if let index = found {
                return Refusal(message: "\(node.name)'s \(w.role) holds NaN or infinite values (first at element \(index))")
            }
        }
        return nil
    }

    /// For a float16 or bfloat16 kernel (or bias), why folding into `layer` (`direction`) would
    /// write a value its dtype cannot hold (float16's largest is 65504; 65520 and beyond round to
    /// infinity), or `nil`: the folded file would hold infinities, whether or not the fold is
    /// verified. float32 and float64 reach their limit only through a BN that is refused for its
    /// variance already (``FoldOverflow``).
    private func halfPrecisionOverflow(_ layer: Node, kernel: Weight, bnIndex: Int, bn: BatchNorm,
                                       direction: FoldDecision.Direction, view: ChannelView? = nil) -> Refusal? {
        guard checksFoldOverflow, FoldOverflow.mayOverflow(layer, kernel: kernel),
              let affine = try? BatchNormAffine(node: model.nodes[bnIndex], attributes: bn) else { return nil }
        let found: FoldOverflow?
        switch direction {
        case .intoProducer:
            guard let view else { return nil }
            found = FoldOverflow.intoProducer(layer, kernel: kernel, view: view, affine: affine)
        case .intoConsumer:
            found = FoldOverflow.intoConsumer(layer, kernel: kernel, affine: affine)
        }
        guard let first = found?.first else { return nil }
        let limit = String(format: "%g", FoldOverflow.largestFinite(first.dtype))
        let into = direction == .intoProducer ? layer.name : "\(layer.name) after it"
        return Refusal(message: "folding into \(into) would make its \(first.role) \(first.value) at element \(first.index), beyond \(first.dtype.rawValue)'s largest value (\(limit))")
    }

    private func valueRank(_ value: String) -> Int? { model.values[value]?.shape?.count }

    private func describe(_ a: Activation) -> String {
        switch a {
        case .relu: return "ReLU"
        case .relu6: return "ReLU6"
        case .leakyRelu: return "LeakyReLU"
        case .elu: return "ELU"
        case .sigmoid: return "sigmoid"
        case .hardSigmoid: return "hard sigmoid"
        case .swish: return "swish"
        case .hardSwish: return "hard swish"
        case .tanh: return "tanh"
        case .gelu: return "GELU"
        case .softmax: return "softmax"
        case .softplus: return "softplus"
        case .softsign: return "softsign"
        case .exponential: return "exponential"
        case .selu: return "SELU"
        case .mish: return "mish"
        case .linear: return "linear"
        }
    }
}

/// One decision per BatchNorm of `model`: fold into which node, or kept and why.
/// A shorthand for `FoldPlanner(model:keep:).plan()`.
public func planBatchNormFolds(_ model: Model, keep: Set<String> = []) -> [FoldDecision] {
    FoldPlanner(model: model, keep: keep).plan()
}
