/// Chains the executor runs as one kernel when nobody observes the values in between:
/// a convolution, dense or merge node, then any run of inference-mode BatchNorms on the head's channel
/// axis (the last, or axis 1 after a channels-first convolution) and
/// element-wise activations, each the only reader of the value before it (wherever it stands in the
/// node order: its single input is ready once the head has run). The BN is still applied
/// unfused (its own map, after the product and bias), just in the same pass over memory.
struct FusionPlan {
    /// One fused chain.
    struct Chain {
        /// The linear step's index.
        let head: Int
        /// Steps run inside the head's epilogue.
        let absorbed: [Int]
        /// Their post-ops, in order.
        let tail: [PostOp]
        /// The value the chain's last step writes.
        let output: String
    }

    /// Chains by head step index.
    private(set) var chains: [Int: Chain] = [:]
    /// Steps run inside another step's epilogue.
    private(set) var absorbed: Set<Int> = []

    /// Plans chains over `nodes`/`kernels` (one per executed step) of `model`.
    init(nodes: [Node], kernels: [EngineKernel], model: Model) {
        var readers: [String: [Int]] = [:]
        for (i, node) in nodes.enumerated() { for v in Set(node.inputs) { readers[v, default: []].append(i) } }
        let outputs = Set(model.outputs)
        for head in nodes.indices {
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
            var tail: [PostOp] = [], taken: [Int] = []
            while let only = readers[current], only.count == 1, let next = only.first, next > head,
                  nodes[next].inputs.count == 1, !outputs.contains(current) {
                let op: PostOp?
                if let bn = kernels[next] as? BatchNormKernel, fusable.acceptsChannelAffine {
                    op = bn.postOp(outputRank: rank, channelAxis: channelAxis)
                } else if case .activation(let a) = nodes[next].op, a != .softmax {
                    op = .activation(a)
                } else {
                    op = nil
                }
                guard let op else { break }
                tail.append(op)
                taken.append(next)
                current = nodes[next].outputs[0]
            }
            if !taken.isEmpty {
                chains[head] = Chain(head: head, absorbed: taken, tail: tail, output: current)
                absorbed.formUnion(taken)
            }
        }
    }

    private func layerActivation(_ op: Op) -> Activation? {
        switch op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.activation
        case .dense(let d): return d.activation
        default: return nil
        }
    }
}
