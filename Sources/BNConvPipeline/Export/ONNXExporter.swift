import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvPasses

/// Exports any ``Model`` (typically one read from Keras or a GraphDef) as a new channels-first
/// ONNX model: undeclared input layouts filled in (``BoundaryLayouts``), ``ConvertLayout`` to
/// channels-first (with `keepIOLayout` when the caller wants NHWC inputs and outputs, which inserts
/// one Transpose per spatial input and output; element-wise op-library ops follow the layout),
/// then ``ONNXGraphExporter``. A model whose op-library ops read image axes by position keeps
/// its own layout (see ``export(_:inputsAsNHWC:file:)``). The Flatten -> Dense
/// row permutation is absorbed into the Dense kernel by ``ConvertLayout``, so no Transpose stands
/// before the Gemm.
public enum ONNXExporter {
    /// The opset used when nothing needs a newer one.
    public static let baseOpset = ONNXGraphExporter.baseOpset

    /// What the exporter made.
    public struct Export {
        /// The serialized `ModelProto`.
        public var bytes: [UInt8]
        /// The opset imported.
        public var opset: Int
        /// The layout conversion's outcome (the model it produced, inserted transposes, notes).
        public var layout: ConvertLayout.Result
        /// Per input and output, how the exported model's tensor relates to the source's.
        public var boundary: LayoutBoundary
        /// ONNX node counts by op type.
        public var opCounts: [String: Int]
    }

    /// Exports `model`; `inputsAsNHWC` keeps its spatial inputs and outputs channels-last (one
    /// Transpose each at the boundary). A model with op-library nodes that read image axes by
    /// position (a frozen TensorFlow graph's StridedSlice, Pack, MirrorPad, Conv2D on a computed
    /// filter) is exported in its own layout instead: each channels-last layer is computed between
    /// two Transposes, and inputs and outputs keep the source's layout. `file` is the file errors name
    /// (what the export refuses is in the model: `bnconv convert` names its input).
    public static func export(_ model: Model, inputsAsNHWC: Bool = false, file: String) throws -> Export {
        let model = BoundaryLayouts.annotated(model)
        var converted: ConvertLayout.Result
        if let reader = ONNXGraphExporter.firstAxisReadingTensorOp(in: model) {
            // The layout pass run on an empty model: a result that changes nothing, with this note.
            converted = try ConvertLayout(target: .channelsFirst)
                .apply(to: Model(name: model.name, format: model.format, inputs: [], outputs: [], nodes: [], values: [:]))
            converted.model = model
            converted.notes = ["kept in the source layout: op-library node \(reader.name) (\(reader.opName)) reads image axes by position; "
                               + "channels-last layers are computed between Transposes"]
        } else {
            converted = try ConvertLayout(target: .channelsFirst, keepIOLayout: inputsAsNHWC).apply(to: model)
        }
        let graph = try ONNXGraphExporter.export(channelsFirst: converted.model, outputNames: model.outputs,
                                                 graphName: model.name, file: file)
        return Export(bytes: graph.bytes, opset: graph.opset, layout: converted,
                      boundary: LayoutBoundary(source: model, converted: converted.model), opCounts: graph.opCounts)
    }

    /// Exports `model` and writes it to `path` through ``AtomicFile`` (nothing written on error).
    @discardableResult
    public static func write(_ model: Model, to path: String, inputsAsNHWC: Bool = false) throws -> Export {
        let export = try export(model, inputsAsNHWC: inputsAsNHWC, file: path)
        try AtomicFile.write(export.bytes, to: path)
        return export
    }
}
