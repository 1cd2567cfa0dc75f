import BNConvCore
import BNConvModel

/// The fold pass: rewrites a model so every foldable BatchNorm disappears into a neighbouring
/// linear op, for inference.
///
/// Before: `x -> Conv(W, b) -> BN(gamma, beta, mean, var, eps) -> y`.
/// After:  `x -> Conv(W * s, b * s + beta - mean * s) -> y`, `s = gamma / sqrt(var + eps)` per
/// output channel (docs/math.md, Folding). A BN before an unpadded conv or dense folds into its input
/// channels instead: `W' = W * s` along input channels, `b' = b + sum(W * (beta - mean * s))`.
/// Math in Double; results stored in the weight's own dtype. Which BNs fold, and why the others
/// are kept, is decided by ``FoldPlanner``; this pass only rewrites. It repeats planning until
/// nothing more folds, so `conv -> BN -> BN` folds both.
public struct FoldBatchNorm {
    /// The outcome of a fold.
    public struct Result {
        /// The rewritten model.
        public var model: Model
        /// One decision per BatchNorm of the input model, in its topological order.
        public var decisions: [FoldDecision]
        /// For each value of the input model that no longer exists, the value of the folded model
        /// that now carries the same numbers (a folded BN's output -> its producer's output).
        public var valueMap: [String: String]

        /// Whether anything was folded (when not, the model is unchanged and its file need not be rewritten).
        public var changed: Bool { decisions.contains { $0.folds } }
    }

    /// BN names to keep whatever the planner says.
    public var keep: Set<String>
    /// Whether a kernel still in its file that a BN folds into (scaled along its output channels)
    /// is checked for NaN and infinity when its folded bytes are made for writing, instead of
    /// read once more ahead by the planner: a fold without verification then reads 100 MB of
    /// ResNet-50 kernels once, not twice. A writer that meets such a value throws
    /// ``FoldError/nonFiniteKernel(node:role:index:)`` before writing it, and the caller plans
    /// again with this off (where the planner keeps that BN and says why). Only the rewrite
    /// pipeline's streaming strategy turns it on.
    package var checksDeferredKernelsWhenWritten: Bool

    /// Creates the pass.
    public init(keep: Set<String> = []) {
        self.keep = keep
        self.checksDeferredKernelsWhenWritten = false
    }

    /// Creates the pass for the streaming strategy, which may leave the NaN check of deferred
    /// kernels to the writer.
    package init(keep: Set<String>, checksDeferredKernelsWhenWritten: Bool) {
        self.keep = keep
        self.checksDeferredKernelsWhenWritten = checksDeferredKernelsWhenWritten
    }

    /// Folds every foldable BN of `model`. The model is consumed: a caller that no longer holds it
    /// lets each replaced kernel be freed as soon as its folded copy exists.
    public func apply(to model: consuming Model) throws -> Result {
        let order = model.batchNormIndices.map { model.nodes[$0].name }
        var current = consume model
        var decided: [String: FoldDecision] = [:]
        var valueMap: [String: String] = [:]
        while true {
            let plan = FoldPlanner(model: current, keep: keep, checksDeferredKernelsWhenWritten: checksDeferredKernelsWhenWritten).plan()
            var progressed = false
            for decision in plan {
                if let target = decision.target, let direction = decision.direction {
                    try fold(decision.batchNorm, into: target, direction: direction, in: &current, valueMap: &valueMap)
                    decided[decision.batchNorm] = decision
                    progressed = true
                } else {
                    // A BN still in the model has not folded yet; its latest reason stands.
                    decided[decision.batchNorm] = decision
                }
            }
            if !progressed { break }
        }
        // Resolve chains (u -> v -> w) so every removed value maps to a live one.
        for (k, var v) in valueMap {
            while let next = valueMap[v] { v = next }
            valueMap[k] = v
        }
        return Result(model: current, decisions: order.compactMap { decided[$0] }, valueMap: valueMap)
    }

    /// Rewrites `model` to fold the BN named `bnName` into `targetName`.
    private func fold(_ bnName: String, into targetName: String, direction: FoldDecision.Direction,
                      in model: inout Model, valueMap: inout [String: String]) throws {
        guard let b = model.nodeIndex(named: bnName), let t = model.nodeIndex(named: targetName),
              case .batchNorm(let bn) = model.nodes[b].op else {
            throw FoldError.inconsistentPlan(bnName)
        }
        let bnNode = model.nodes[b]
        let affine = try BatchNormAffine(node: bnNode, attributes: bn)
        var target = model.nodes[t]
        let x = bnNode.inputs[0], u = bnNode.outputs[0]
        switch direction {
        case .intoProducer:
            // A per-channel constant added between the layer and the BN takes the BN's shift
            // (c' = c * s + shift); the layer is then scaled alone.
            var layerAffine = affine
            var walk = x
            while let p = model.producerIndex(of: walk), p != t {
                if let c = FoldPlanner.channelBias(of: model.nodes[p], channels: affine.channels, axis: bn.axis,
                                                   rank: model.values[walk]?.shape?.count) {
                    let values = try c.tensor.materialized().doubles()
                    var folded = c
                    folded.tensor = Tensor(shape: c.tensor.shape,
                                           doubles: (0..<affine.channels).map { values[$0] * affine.scale[$0] + affine.shift[$0] },
                                           dtype: c.tensor.dtype)
                    folded.isModified = true
                    model.nodes[p].setWeight(folded)
                    layerAffine.shift = Array(repeating: 0, count: affine.channels)
                }
                guard let next = model.nodes[p].inputs.first else { break }
                walk = next
            }
            try Self.scaleOutputs(of: &target, by: layerAffine, checkingWhenWritten: checksDeferredKernelsWhenWritten)
            // Consumers of the BN's output now read the producer's output.
            for i in model.nodes.indices {
                model.nodes[i].inputs = model.nodes[i].inputs.map { $0 == u ? x : $0 }
            }
            model.outputs = model.outputs.map { $0 == u ? x : $0 }
            valueMap[u] = x
            model.values[u] = nil
        case .intoConsumer:
            try Self.scaleInputs(of: &target, by: affine)
            // The BN's reader (the target, or the Identity/Dropout/Flatten the planner saw
            // through on the way to it) now reads the BN's input.
            target.inputs = target.inputs.map { $0 == u ? x : $0 }
            for i in model.nodes.indices where i != t {
                model.nodes[i].inputs = model.nodes[i].inputs.map { $0 == u ? x : $0 }
            }
            model.values[u] = nil
        }
        model.nodes[t] = target
        model.nodes.remove(at: b)
    }

    /// `W' = W * s` on output channels, `b' = b * s + shift`; turns the bias on. With
    /// `checkingWhenWritten`, a deferred kernel is checked for NaN and infinity when its folded
    /// bytes are made (``checksDeferredKernelsWhenWritten``).
    static func scaleOutputs(of node: inout Node, by affine: BatchNormAffine, checkingWhenWritten: Bool = false) throws {
        var groups = 1
        let kernelRole: WeightRole
        switch node.op {
        case .separableConv: kernelRole = .pointwiseKernel
        case .convTranspose(let c): kernelRole = .kernel; groups = c.groups
        default: kernelRole = .kernel
        }
        guard let kernel = node.weight(kernelRole),
              let view = ChannelView.output(of: kernel.layout, shape: kernel.tensor.shape, groups: groups) else {
            throw FoldError.inconsistentPlan(node.name)
        }
        var newKernel = kernel
        // A deferred kernel stays deferred: it is scaled when its bytes are asked for (by a writer).
        let scale = affine.scale, dtype = kernel.tensor.dtype, shape = kernel.tensor.shape
        let check = checkingWhenWritten && kernel.tensor.isDeferred, name = node.name
        newKernel.tensor = try kernel.tensor.mappedBytes(writing: { raw, folded in
            if check, let index = Tensor.firstNonFiniteIndex(in: raw, dtype: dtype) {
                throw FoldError.nonFiniteKernel(node: name, role: kernelRole.rawValue, index: index)
            }
            view.scale(raw, into: folded, dtype: dtype, shape: shape, by: scale)
        })
        newKernel.isModified = true
        node.setWeight(newKernel)

        let oldBias = node.weight(.bias)
        let b = try oldBias?.tensor.materialized().doubles() ?? Array(repeating: 0, count: affine.channels)
        let folded = (0..<affine.channels).map { b[$0] * affine.scale[$0] + affine.shift[$0] }
        node.setWeight(makeBias(folded, replacing: oldBias, kernel: kernel))
        enableBias(&node)
    }

    /// `W' = W * s` on input channels, `b' = b + sum(W * shift)` per output channel.
    static func scaleInputs(of node: inout Node, by affine: BatchNormAffine) throws {
        guard let kernel = node.weight(.kernel),
              let view = ChannelView.input(of: kernel.layout, shape: kernel.tensor.shape),
              let outView = ChannelView.output(of: kernel.layout, shape: kernel.tensor.shape) else {
            throw FoldError.inconsistentPlan(node.name)
        }
        let original = try kernel.tensor.materialized().doubles()
        let outputs = outView.totalChannels
        // Output channel of an element, from the input view's (outer, inner) coordinates.
        let outputOnInner = kernel.layout == .hwio || kernel.layout == .io
        let added = view.contract(original, with: affine.shift, outputs: outputs) { o, k in
            outputOnInner ? k : o
        }
        var w = original
        view.scale(&w, by: affine.scale)
        var newKernel = kernel
        newKernel.tensor = Tensor(shape: kernel.tensor.shape, doubles: w, dtype: kernel.tensor.dtype)
        newKernel.isModified = true
        node.setWeight(newKernel)

        let oldBias = node.weight(.bias)
        let b = try oldBias?.tensor.materialized().doubles() ?? Array(repeating: 0, count: outputs)
        node.setWeight(makeBias((0..<outputs).map { b[$0] + added[$0] }, replacing: oldBias, kernel: kernel))
        enableBias(&node)
    }

    /// A modified bias: the old one's dtype and storage, or a new one in the kernel's dtype.
    private static func makeBias(_ values: [Double], replacing old: Weight?, kernel: Weight) -> Weight {
        let dtype = old?.tensor.dtype ?? kernel.tensor.dtype
        var bias = old ?? Weight(role: .bias, tensor: Tensor(shape: [values.count], doubles: values, dtype: dtype),
                                 layout: .vector, storageKey: "")
        bias.tensor = Tensor(shape: [values.count], doubles: values, dtype: dtype)
        bias.isModified = true
        return bias
    }

    /// Sets `useBias = true` on a conv or dense op.
    private static func enableBias(_ node: inout Node) {
        switch node.op {
        case .conv(var c): c.useBias = true; node.op = .conv(c)
        case .depthwiseConv(var c): c.useBias = true; node.op = .depthwiseConv(c)
        case .separableConv(var c): c.useBias = true; node.op = .separableConv(c)
        case .convTranspose(var c): c.useBias = true; node.op = .convTranspose(c)
        case .dense(var d): d.useBias = true; node.op = .dense(d)
        default: break
        }
    }
}

/// A fold that could not be carried out.
public enum FoldError: DeferredComputationError, CustomStringConvertible {
    /// The plan names a node that is not (or no longer) what it said.
    case inconsistentPlan(String)
    /// A kernel that was to be checked when written (`FoldBatchNorm.checksDeferredKernelsWhenWritten`)
    /// holds NaN or infinity at `index`: the fold must be planned again with every check made first.
    case nonFiniteKernel(node: String, role: String, index: Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case .inconsistentPlan(let n): return "internal error: the fold plan for '\(n)' no longer matches the model"
        case let .nonFiniteKernel(node, role, index):
            return "\(node)'s \(role) holds NaN or infinite values (first at element \(index)); plan the fold again with the check made first"
        }
    }
}
