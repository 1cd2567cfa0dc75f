import BNConvCore

/// Fills in the activation layout of values a reader left without one, from the ops that write
/// them: an op with a layout attribute writes that layout; an op that keeps a tensor's layout
/// (activations, BN, Rescaling, Normalization, merges, identities, Softmax) writes its first
/// spatial input's; a transpose between channels-first and channels-last writes the other one.
/// Only values of rank 3 or more (by ``ValueInfo/shape``) are touched, and declared layouts stay.
/// Readers run it after `InputLayout` has declared the inputs; ``BoundaryLayouts`` does the
/// same for a model's boundary after reading, for readers that declare nothing.
public enum LayoutPropagation {
    /// `model` with the layouts of its spatial values filled in where they can be derived.
    public static func annotate(_ model: consuming Model) -> Model {
        var model = model
        func rank(_ v: String) -> Int { model.values[v]?.shape?.count ?? 0 }
        for node in model.nodes {
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
}
