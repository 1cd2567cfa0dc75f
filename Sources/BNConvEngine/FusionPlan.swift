import BNConvCore
import BNConvModel
import BNConvInterop

/// Chains the executor runs as one kernel when nobody observes the values in between:
/// a convolution, dense or merge node, then any run of inference-mode BatchNorms on the head's channel
/// axis (the last, or axis 1 after a channels-first convolution), same-shape residual Adds and
/// element-wise activations, each the only reader of the value before it (wherever it stands in the
/// node order: its single input is ready once the head has run). The BN is still applied
/// unfused (its own map, after the product and bias), just in the same pass over memory.
///
/// A residual Add (a ResNet's `Add(conv, shortcut) -> ReLU`) is absorbed only into a kernel that
/// binds residuals (``FusableKernel/acceptsResidual``), only when it adds exactly two distinct
/// values whose inferred shapes are equal and known but for the batch, of the same declared dtype,
/// and when its other operand (the shortcut) is a model input or written by a step before the
/// head, or by a chain whose head comes before it, so it is ready when the head runs. Anything else (broadcasting, three operands, an
/// unknown shape) runs as its own step.
struct FusionPlan {
    /// One step of a chain's tail.
    enum Link {
        /// A post-op known when planning.
        case op(PostOp)
        /// A residual Add of the named value, bound when the chain runs.
        case residual(String)
    }

    /// One fused chain.
    struct Chain {
        /// The linear step's index.
        let head: Int
        /// Steps run inside the head's epilogue.
        let absorbed: [Int]
        /// Their post-ops, in order.
        let links: [Link]
        /// The value the chain's last step writes.
        let output: String
        /// For each residual value, the shape planning inferred for it (known but for the batch).
        let residualShapes: [String: [Int?]]

        /// The tail's post-ops, residuals taken from `value` (their live values).
        func tail(_ value: (String) -> EngineValue) -> [PostOp] {
            links.map { link in
                switch link {
                case .op(let op): return op
                case .residual(let name): return .residual(other: value(name), output: nil)
                }
            }
        }

        /// The tail's post-ops when no residual Add is among them.
        var tail: [PostOp] { tail { name in preconditionFailure("residual '\(name)' not resolved") } }

        /// Whether each residual is live (`value`; its writer's chain may have run step by step)
        /// with the planned shape, the batch being `batch` (the head's input batch); when not, the
        /// executor runs the chain's steps one by one.
        func residualsFit(batch: Int, _ value: (String) -> EngineValue?) -> Bool {
            residualShapes.allSatisfy { name, planned in
                guard let shape = value(name)?.shape else { return false }
                return shape.count == planned.count && shape.first == batch
                    && zip(shape.dropFirst(), planned.dropFirst()).allSatisfy { $0 == $1 }
            }
        }
    }

    /// Chains by head step index.
    private(set) var chains: [Int: Chain] = [:]
    /// Steps run inside another step's epilogue.
    private(set) var absorbed: Set<Int> = []
    /// For each absorbed step, the head of its chain.
    private(set) var headOf: [Int: Int] = [:]

    /// Plans chains over `nodes`/`kernels` (one per executed step) of `model`.
    init(nodes: [Node], kernels: [EngineKernel], model: Model) {
        var readers: [String: [Int]] = [:]
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for v in node.distinctInputs { readers[v, default: []].append(i) }
            for v in node.outputs { producer[v] = i }
        }
        let outputs = Set(model.outputs), inputs = Set(model.inputs)
        var shapes: [String: [Int?]]? = nil
        for head in nodes.indices where !absorbed.contains(head) {
            guard let fusable = kernels[head] as? FusableKernel else { continue }
            var rank: Int? = nil, channelAxis: Int? = nil
            switch nodes[head].op {
            case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c):
                rank = c.rank + 2
                channelAxis = c.layout == .channelsFirst ? 1 : c.rank + 1
            case .dense, .elementwise: rank = nil
            default: continue
            }
            if layerActivation(nodes[head].op) == .softmax { continue }
            var current = nodes[head].outputs[0]
            var links: [Link] = [], taken: [Int] = []
            var residualShapes: [String: [Int?]] = [:]
            while !outputs.contains(current), let readerSteps = readers[current] {
                var link: Link? = nil
                var joined: [Int] = []
                var written = current
                if readerSteps.count == 1, let next = readerSteps.first, next > head {
                    link = singleReaderLink(next, head: head, current: current, fusable: fusable, rank: rank,
                                                 channelAxis: channelAxis, nodes: nodes, kernels: kernels, model: model,
                                                 inputs: inputs, producer: producer, residualShapes: &residualShapes,
                                                 shapes: &shapes)
                    if link != nil {
                        joined = [next]
                        written = nodes[next].outputs[0]
                    }
                }
                if link == nil, let region = ElementRegion(from: current, head: head, nodes: nodes, readers: readers,
                                                           outputs: outputs, model: model) {
                    link = .op(.program(region.program))
                    joined = region.steps
                    written = region.output
                }
                guard let link else { break }
                links.append(link)
                taken.append(contentsOf: joined)
                current = written
            }
            if !taken.isEmpty {
                chains[head] = Chain(head: head, absorbed: taken, links: links, output: current,
                                     residualShapes: residualShapes)
                absorbed.formUnion(taken)
                for step in taken { headOf[step] = head }
            }
        }
    }

    /// The link that absorbs `next`, the only reader of the chain's value `current`: a residual
    /// Add, a BatchNorm on the head's channel axis, or an activation; `nil` for anything else.
    private func singleReaderLink(_ next: Int, head: Int, current: String, fusable: FusableKernel, rank: Int?,
                                  channelAxis: Int?, nodes: [Node], kernels: [EngineKernel], model: Model,
                                  inputs: Set<String>, producer: [String: Int], residualShapes: inout [String: [Int?]],
                                  shapes: inout [String: [Int?]]?) -> Link? {
        let link: Link?
        if nodes[next].inputs.count != 1 {
            // Written before the head runs: by an earlier step, or by an earlier chain
            // that absorbed its writer (Keras lists `0_conv, 3_conv, 0_bn, 3_bn, add`).
            let heads = headOf
            let ready = { (value: String) in
                inputs.contains(value) || (producer[value].map { (heads[$0] ?? $0) < head } ?? false)
            }
            if shapes == nil { shapes = ShapeInference.shapes(of: model) }
            if fusable.acceptsResidual,
               let other = Self.residualOperand(of: nodes[next], chainValue: current, model: model, shapes: shapes!),
               ready(other), residualShapes[other] == nil {
                residualShapes[other] = shapes![other]!
                link = .residual(other)
            } else {
                link = nil
            }
        } else if let bn = kernels[next] as? BatchNormKernel, fusable.acceptsChannelAffine {
            link = bn.postOp(outputRank: rank, channelAxis: channelAxis).map(Link.op)
        } else if case .activation(let a) = nodes[next].op, a != .softmax {
            link = .op(.activation(a))
        } else {
            link = nil
        }
        return link
    }

    /// The other operand of `node` when it is a plain residual Add of `chainValue` and one other
    /// value: exactly two distinct inputs, inferred shapes equal and known but for the batch,
    /// declared dtypes equal.
    static func residualOperand(of node: Node, chainValue: String, model: Model, shapes: [String: [Int?]]) -> String? {
        guard case .elementwise(.add) = node.op, node.inputs.count == 2, node.outputs.count == 1,
              node.inputs[0] != node.inputs[1], let other = node.inputs.first(where: { $0 != chainValue }),
              node.inputs.contains(chainValue) else { return nil }
        guard let mine = shapes[chainValue], let theirs = shapes[other], mine == theirs, !mine.isEmpty,
              mine.dropFirst().allSatisfy({ $0 != nil }) else { return nil }
        let dtypes = [chainValue, other].map { model.values[$0]?.dtype ?? .float32 }
        guard dtypes[0] == dtypes[1] else { return nil }
        return other
    }

    private func layerActivation(_ op: Op) -> Activation? {
        switch op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.activation
        case .dense(let d): return d.activation
        default: return nil
        }
    }
}
