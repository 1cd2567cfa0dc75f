import BNConvCore
import BNConvModel

/// TensorFlow's grouped convolutions: a `Conv2D` whose filter has fewer input channels than its
/// input runs in `input depth / filter depth` groups (tensorflow/core/kernels/conv_ops.cc,
/// `Conv2DParameters`: the groups are not an attribute, they follow from the shapes). Once the
/// shapes that flow from the placeholders are known, each such conv gets its groups.
enum GraphDefConvolutionGroups {
    /// `model` with every conv whose input depth is a multiple of its `hwio` filter's input
    /// channels given that many groups (when the filters divide into them too).
    static func grouped(_ model: Model) -> Model {
        var model = model
        var shapes: [String: [Int?]]?
        for i in model.nodes.indices {
            guard case .conv(var c) = model.nodes[i].op, c.groups == 1, let kernel = model.nodes[i].weight(.kernel),
                  kernel.layout == .hwio, kernel.tensor.rank == c.rank + 2, let x = model.nodes[i].inputs.first else { continue }
            // Convolutions never change with their groups' output shape: one inference serves all.
            if shapes == nil { shapes = ShapeInference.shapes(of: model) }
            guard let s = shapes?[x], s.count == c.rank + 2, let depth = s[c.layout.channelAxis(rank: s.count)] else { continue }
            let filterDepth = kernel.tensor.shape[c.rank]
            guard filterDepth > 0, depth > filterDepth, depth % filterDepth == 0, c.filters % (depth / filterDepth) == 0 else { continue }
            c.groups = depth / filterDepth
            model.nodes[i].op = .conv(c)
        }
        return model
    }
}
