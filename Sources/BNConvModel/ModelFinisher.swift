import BNConvCore

/// The one step every reader ends with, so that a model is checked and completed the same way
/// whatever its format:
///
/// 1. the structure is validated (``Model/validate()``: unique node names, every value written
///    before it is read and only once, outputs produced, window sizes of at least 1); a problem
///    is a ``CheckpointError`` naming the file and the node;
/// 2. shapes are inferred from the inputs' declared shapes (``ShapeInference``);
/// 3. activation layouts are filled in by the format's ``LayoutConvention``;
/// 4. every node is numbered (``Node/readIndex``) and the model as read is recorded
///    (``Model/asRead``), which is what ``ModelChanges`` later compares an edited model with.
public struct ModelFinisher: Sendable {
    /// What a format says about the layout of activations no file field declares.
    public enum LayoutConvention: Sendable, Equatable {
        /// Inputs that only channels-first layers read are channels-first (`InputLayout`),
        /// layouts flow from the ops that write them (``LayoutPropagation``), and a spatial value
        /// still without one is channels-last: Keras, whose default `data_format` is channels-last.
        case derivedElseChannelsLast
        /// Inputs marked and layouts propagated as for Keras; a value nothing decides stays
        /// unknown: TensorFlow GraphDefs, whose ops each name their own `data_format`.
        case derived
        /// Every 3-D to 5-D value without a declared layout is channels-first, nothing is
        /// derived: ONNX, whose operators are channels-first by definition. Its interface is
        /// the exception: a spatial input read only through transposes to channels-first, and a
        /// spatial output written by a transpose from channels-first, are channels-last (what
        /// tf2onnx writes for a TensorFlow or Keras model's NHWC inputs and outputs).
        case channelsFirst
    }

    /// The format's layout convention.
    public var layouts: LayoutConvention

    /// A finisher for a format with `layouts`.
    public init(layouts: LayoutConvention) {
        self.layouts = layouts
    }

    /// `model` validated, annotated and numbered; `file` names the file in errors.
    public func finish(_ model: consuming Model, file: String) throws -> Model {
        do {
            try model.validate()
        } catch let error as ModelError {
            throw CheckpointError(.malformed, file: file, place: error.node ?? "model outputs", problem: error.description)
        }
        // `model` is consumed: the reader's only copy moves here and is annotated in place instead
        // of copied (the copy of a 100,000-node model's arrays was 34 MB).
        var model = consume model
        switch layouts {
        case .derivedElseChannelsLast, .derived:
            model.values = InputLayout.marked(model.values, inputs: model.inputs, nodes: model.nodes)
            model = LayoutPropagation.annotate(ShapeInference.annotate(model))
            if layouts == .derivedElseChannelsLast {
                // The names first: a loop over the dictionary it edits would copy it (12 MB for
                // 100,000 values).
                let open = model.values.compactMap { name, info in info.layout == nil && (info.shape?.count ?? 0) >= 3 ? name : nil }
                for name in open { model.values[name]?.layout = .channelsLast }
            }
        case .channelsFirst:
            model = ShapeInference.annotate(model)
            let open = model.values.compactMap { name, info in
                info.layout == nil && info.shape.map { (3...5).contains($0.count) } == true ? name : nil
            }
            for name in open { model.values[name]?.layout = .channelsFirst }
            for (value, layout) in InterfaceTransposes.channelsLastInterface(of: model) { model.values[value]?.layout = layout }
        }
        for index in model.nodes.indices { model.nodes[index].readIndex = index }
        model.asRead = ModelOutline(model)
        return model
    }
}
