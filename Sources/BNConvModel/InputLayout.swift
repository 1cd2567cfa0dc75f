import BNConvCore

/// The layout of a model's spatial inputs, taken from the ops that read them: the one rule for
/// inputs whose declarations carry no layout (a Keras InputLayer, a TensorFlow Placeholder, an
/// ONNX graph input). The readers apply it while reading (``marked(_:inputs:nodes:)``), and
/// ``BoundaryLayouts`` applies it after reading to inputs a reader left undeclared
/// (``readersLayout(of:rank:consumers:positional:)``).
///
/// Following the input through ops that keep a tensor's layout and rank (activations, Rescaling,
/// Normalization, merges, identities, BN, op-library element-wise ops) to the first ops with a layout attribute (conv, pool,
/// pad, crop, upsample; a BatchNorm on axis 1 or the last axis also votes), the input has the
/// layout they all agree on. An op that reads axes by position (Reshape, Dense, Flatten, ...)
/// votes for the format's default layout when the caller names one (`positional`), or not at all.
///
/// A transpose between the two layouts (``ConvertLayout`` writes one after each input with
/// `--keep-io-layout`) is looked through: the layout its readers want, mapped back through the
/// transpose, is the layout the input has. The transpose alone cannot tell: for a rank-3 tensor
/// the channels-last -> channels-first permutation and its inverse are the same `[2, 1]`. A
/// transpose whose readers decide nothing counts as a channels-first reader when its dims turn
/// channels-first into channels-last (rank >= 4, where the two directions differ).
package enum InputLayout {
    /// `values` with each spatial input that only channels-first layers read marked channels-first
    /// (what the Keras and GraphDef readers apply: positional readers keep the channels-last default).
    package static func marked(_ values: [String: ValueInfo], inputs: [String], nodes: [Node]) -> [String: ValueInfo] {
        var values = values
        let spatial = inputs.filter { (values[$0]?.shape?.count ?? 0) >= 3 }
        guard !spatial.isEmpty else { return values }
        let consumers = consumerMap(nodes)
        for input in spatial {
            if readersLayout(of: input, rank: values[input]?.shape?.count ?? 0, consumers: consumers, positional: .channelsLast) == .channelsFirst {
                values[input]?.layout = .channelsFirst
            }
        }
        return values
    }

    /// The nodes reading each value.
    package static func consumerMap(_ nodes: [Node]) -> [String: [Node]] {
        var consumers: [String: [Node]] = [:]
        for node in nodes { for v in node.distinctInputs { consumers[v, default: []].append(node) } }
        return consumers
    }

    /// The one layout every reader of `value` (of rank `rank`) works in, or nil when they disagree
    /// or none decides.
    package static func readersLayout(of value: String, rank: Int, consumers: [String: [Node]], positional: DataLayout?) -> DataLayout? {
        var seen = Set<String>()
        let layouts = readerLayouts(of: value, rank: rank, consumers: consumers, positional: positional, seen: &seen)
        return layouts.count == 1 ? layouts.first : nil
    }

    /// The layouts the ops reading `value` (through layout-keeping ops) work in.
    private static func readerLayouts(of value: String, rank: Int, consumers: [String: [Node]], positional: DataLayout?,
                                      seen: inout Set<String>) -> Set<DataLayout> {
        var layouts = Set<DataLayout>(), batchNormVotes = Set<DataLayout>()
        var pending = [value]
        while let v = pending.popLast() {
            guard seen.insert(v).inserted else { continue }
            for node in consumers[v] ?? [] {
                switch node.op {
                case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): layouts.insert(c.layout)
                case .pool(let p): layouts.insert(p.layout)
                case .globalPool(let g): layouts.insert(g.layout)
                case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): layouts.insert(l)
                case .batchNorm(let bn):
                    // A BN's channel axis names a layout (first or last non-batch axis); it only
                    // decides when no op with a layout attribute does (a BN may normalize any axis).
                    if rank >= 3 {
                        let axis = Op.resolveAxis(bn.axis, rank: rank)
                        if axis == 1 { batchNormVotes.insert(.channelsFirst) } else if axis == rank - 1 { batchNormVotes.insert(.channelsLast) }
                    }
                    pending += node.outputs
                case .activation, .identity, .rescaling, .normalization, .elementwise, .concat:
                    pending += node.outputs
                case .tensor(let op) where TensorOpShapes.isLayoutFree(op, node: node):
                    // Op-library element-wise ops (a frozen Normalization's Sub / RealDiv) keep the layout too.
                    pending += node.outputs
                case .permute(let dims) where isLayoutSwap(dims):
                    let r = dims.count + 1
                    let beyond = node.outputs.first.map { readerLayouts(of: $0, rank: r, consumers: consumers, positional: positional, seen: &seen) } ?? []
                    if beyond.count == 1, let after = beyond.first {
                        // The transpose delivers `after`; it reads the other layout, if its dims say so.
                        let before: DataLayout = after == .channelsFirst ? .channelsLast : .channelsFirst
                        if dims == LayoutPermutation.permuteDims(rank: r, from: before, to: after) {
                            layouts.insert(before)
                        } else if let positional {
                            layouts.insert(positional)
                        }
                    } else if beyond.isEmpty, r >= 4,
                              dims == LayoutPermutation.permuteDims(rank: r, from: .channelsFirst, to: .channelsLast) {
                        layouts.insert(.channelsFirst)
                    } else if let positional {
                        layouts.insert(positional)
                    }
                default:
                    if let positional { layouts.insert(positional) }   // reads axes by position: the format's default
                }
            }
        }
        return layouts.isEmpty ? batchNormVotes : layouts
    }

    /// Whether Permute `dims` (1-based, batch excluded) swaps channels-last and channels-first.
    private static func isLayoutSwap(_ dims: [Int]) -> Bool {
        let rank = dims.count + 1
        guard rank >= 3 else { return false }
        return dims == LayoutPermutation.permuteDims(rank: rank, from: .channelsFirst, to: .channelsLast)
            || dims == LayoutPermutation.permuteDims(rank: rank, from: .channelsLast, to: .channelsFirst)
    }
}
