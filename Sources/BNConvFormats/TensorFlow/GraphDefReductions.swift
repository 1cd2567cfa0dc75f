import BNConvCore
import BNConvModel

/// TensorFlow `Mean` / `Max` over axes [1, 2] (or [2, 3]) read as a global pooling: that is what
/// they are on a 4-D image, and only there (on a 3-D value, axes [1, 2] are every axis but the
/// batch). Once the shapes that flow from the placeholders are known, a reduction whose input is
/// not known to be 4-D becomes the op library's ReduceMean / ReduceMax over the same axes.
enum GraphDefReductions {
    /// `model` with every global pooling read from a `Mean`/`Max` whose input is not proven 4-D
    /// turned into a reduction over the axes the NodeDef names.
    static func provingGlobalPools(_ model: Model) -> Model {
        var model = model
        var shapes: [String: [Int?]]?
        for i in model.nodes.indices {
            guard case .globalPool(let g) = model.nodes[i].op, let record = model.nodes[i].source as? GraphDefNodeRecord,
                  let def = record.nodeDefs.first, def.op == "Mean" || def.op == "Max" else { continue }
            if shapes == nil { shapes = ShapeInference.shapes(of: model) }
            if let input = model.nodes[i].inputs.first, shapes?[input]?.count == 4 { continue }
            let axes = g.layout == .channelsFirst ? [2, 3] : [1, 2]
            model.nodes[i].op = .tensor(TensorOp(type: g.kind == .max ? "ReduceMax" : "ReduceMean", opset: 13,
                                                 attributes: ["axes": .ints(axes), "keepdims": .int(g.keepDims ? 1 : 0)],
                                                 arguments: [.value(0)]))
        }
        return model
    }
}
