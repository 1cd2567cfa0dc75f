import BNConvCore

/// Fills in the activation layout of values a reader left without one, from the ops that write
/// them: an op with a layout attribute writes that layout; an op that keeps a tensor's layout
/// (activations, BN, Rescaling, Normalization, merges, identities, Softmax) writes its first
/// spatial input's; a transpose between channels-first and channels-last writes the other one.
/// Only values of rank 3 or more are touched (by ``ValueInfo/shape``, or, where the sizes are not
/// known, by the op: a conv's output has its rank + 2 axes, a layout-keeping op's its input's), and
/// declared layouts stay.
/// Readers run it after `InputLayout` has declared the inputs; ``BoundaryLayouts`` does the
/// same for a model's boundary after reading, for readers that declare nothing.
public enum LayoutPropagation {
    /// `model` with the layouts of its spatial values filled in where they can be derived.
    public static func annotate(_ model: consuming Model) -> Model {
        var model = model
        var ranks: [String: Int] = [:]
        func rank(_ v: String) -> Int { model.values[v]?.shape?.count ?? ranks[v] ?? 0 }
        for node in model.nodes {
            if let r = outputRank(of: node, inputRank: { rank($0) > 0 ? rank($0) : nil }) {
                for o in node.outputs where model.values[o]?.shape == nil { ranks[o] = r }
            }
            let spatialInput = node.inputs.first { rank($0) >= 3 && model.values[$0]?.layout != nil }
            let inputLayout = spatialInput.flatMap { model.values[$0]?.layout }
            let layout: DataLayout?
            switch node.op {
            case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): layout = c.layout
            case .pool(let p): layout = p.layout
            case .globalPool(let g): layout = g.layout
            case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): layout = l
            case .activation, .identity, .batchNorm, .rescaling, .normalization, .elementwise, .concat, .softmax:
                layout = inputLayout
            case .permute(let dims):
                let r = dims.count + 1
                if inputLayout == .channelsFirst, dims == LayoutPermutation.permuteDims(rank: r, from: .channelsFirst, to: .channelsLast) {
                    layout = .channelsLast
                } else if inputLayout == .channelsLast, dims == LayoutPermutation.permuteDims(rank: r, from: .channelsLast, to: .channelsFirst) {
                    layout = .channelsFirst
                } else {
                    layout = nil
                }
            default:
                layout = nil
            }
            guard let layout else { continue }
            for o in node.outputs where rank(o) >= 3 && model.values[o]?.layout == nil {
                model.values[o]?.layout = layout
            }
        }
        return model
    }

    /// The rank of every value whose ``ValueInfo/shape`` is unknown but whose rank the ops say
    /// (a conv's output has its rank + 2 axes, a layout-keeping op's its input's).
    package static func ranks(of model: Model) -> [String: Int] {
        var ranks: [String: Int] = [:]
        func rank(_ v: String) -> Int? { model.values[v]?.shape?.count ?? ranks[v] }
        for node in model.nodes {
            guard let r = outputRank(of: node, inputRank: rank) else { continue }
            for o in node.outputs where model.values[o]?.shape == nil { ranks[o] = r }
        }
        return ranks
    }

    /// The rank `node` gives its outputs whatever the sizes, from its op and its inputs' ranks.
    private static func outputRank(of node: Node, inputRank: (String) -> Int?) -> Int? {
        switch node.op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.rank + 2
        case .pool(let p): return p.poolSize.count + 2
        case .pad(let p, _): return p.count + 2
        case .crop(let c, _): return c.count + 2
        case .upsample(let s, _, _): return s.count + 2
        case .permute(let dims): return dims.count + 1
        case .reshape(let target): return target.count + 1
        case .flatten: return 2
        case .activation, .identity, .batchNorm, .rescaling, .normalization, .softmax, .concat:
            return node.inputs.first.flatMap(inputRank)
        case .elementwise:
            return node.inputs.compactMap(inputRank).max()
        case .globalPool(let g):
            return g.keepDims ? node.inputs.first.flatMap(inputRank) : 2
        default:
            return nil
        }
    }
}
