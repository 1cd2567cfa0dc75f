import BNConvCore
import BNConvModel

/// Declares the activation layout of model inputs and outputs that readers left undeclared, from
/// the ops around them, so layout conversions and their boundaries never guess.
///
/// ``ConvertLayout`` and ``LayoutBoundary`` take an undeclared rank >= 3 value as channels-last. A
/// TensorFlow graph with `data_format = "NCHW"` convolutions, or an ONNX graph, reads and writes
/// channels-first tensors without saying so on its placeholder or output. For each undeclared
/// spatial input this pass applies the readers' own rule (`InputLayout`: the layout every op
/// reading it agrees on, looking through layout-keeping ops and boundary transposes; ops that read
/// axes by position do not vote here, since this pass knows no file format and so no default);
/// for each undeclared spatial output, the layout found by walking back through
/// layout-preserving nodes (activations, BN, element-wise merges, concatenations, softmax,
/// identities) to a node that has one or to an input. Values already declared, and values
/// nothing decides, are left alone.
///
/// Why this is not folded into the readers: the Keras and GraphDef readers already declare every
/// input (`InputLayout.marked(_:inputs:nodes:)` with their channels-last default) and every
/// value (``LayoutPropagation``), so for them this pass changes nothing; it exists for models
/// whose reader declares nothing (ONNX) or that a library user built by hand, and it runs where
/// a layout decision is made (`convert`, ``ONNXExporter``, ``TorchStateDict``). ``LayoutBoundary``
/// is not a third mechanism: it only compares the declared layouts of two models.
public enum BoundaryLayouts {
    /// `model` with its undeclared spatial input and output layouts filled in.
    public static func annotated(_ model: Model) -> Model {
        var out = model
        func declare(_ value: String, _ layout: DataLayout) {
            var info = out.values[value] ?? ValueInfo(name: value)
            info.layout = layout
            out.values[value] = info
        }
        let consumers = InputLayout.consumerMap(model.nodes)
        for input in model.inputs where model.values[input]?.layout == nil {
            guard let rank = model.values[input]?.shape?.count, rank >= 3 else { continue }
            if let layout = InputLayout.readersLayout(of: input, rank: rank, consumers: consumers, positional: nil) {
                declare(input, layout)
            }
        }
        let shapes = ShapeInference.shapes(of: model)
        for output in model.outputs where out.values[output]?.layout == nil {
            guard (shapes[output]?.count ?? model.values[output]?.shape?.count ?? 0) >= 3 else { continue }
            if let layout = producedLayout(output, in: out, shapes: shapes, depth: 0) { declare(output, layout) }
        }
        return out
    }

    /// The layout `value` is produced in, walking back through layout-preserving nodes.
    private static func producedLayout(_ value: String, in model: Model, shapes: [String: [Int?]], depth: Int) -> DataLayout? {
        if let declared = model.values[value]?.layout { return declared }
        guard depth < 10_000, let i = model.producerIndex(of: value) else { return nil }
        let node = model.nodes[i]
        let rank = shapes[value]?.count ?? 0
        if let layout = attributeLayout(of: node, rank: rank) { return layout }
        switch node.op {
        case .activation, .identity, .batchNorm, .elementwise, .concat, .softmax, .rescaling, .normalization:
            for input in node.inputs where (shapes[input]?.count ?? 0) == rank {
                if let layout = producedLayout(input, in: model, shapes: shapes, depth: depth + 1) { return layout }
            }
            return nil
        default:
            return nil
        }
    }

    /// The activation layout a node's attributes name, if any.
    private static func attributeLayout(of node: Node, rank: Int) -> DataLayout? {
        switch node.op {
        case .conv(let c), .depthwiseConv(let c), .separableConv(let c), .convTranspose(let c): return c.layout
        case .pool(let p): return p.layout
        case .globalPool(let g): return g.keepDims ? g.layout : nil
        case .pad(_, let l), .crop(_, let l), .upsample(_, _, let l): return l
        case .batchNorm(let bn) where rank >= 3:
            let axis = Op.resolveAxis(bn.axis, rank: rank)
            return axis == 1 ? .channelsFirst : axis == rank - 1 ? .channelsLast : nil
        default: return nil
        }
    }
}
