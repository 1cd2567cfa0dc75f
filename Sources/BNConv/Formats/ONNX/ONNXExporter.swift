import Foundation

/// Builds a new ONNX model from any ``Model`` (typically one read from Keras or a GraphDef).
///
/// Unlike ``ONNXWriter``, which edits the ONNX file a model was read from, the exporter makes
/// every record itself. Pipeline: ``ConvertLayout`` to channels-first (with `keepIOLayout` when
/// the caller wants NHWC inputs and outputs, which inserts one Transpose per spatial input and
/// output), then one or a few ONNX nodes per model node, weights rewritten by
/// ``ChannelsFirstWeights``, TF SAME padding made explicit by `ONNXExportPadding`. The Flatten
/// -> Dense row permutation is absorbed into the Dense kernel by ``ConvertLayout``, so no Transpose
/// stands before the Gemm. Floating weights are stored in the graph input's dtype (ONNX requires
/// one element type per op).
///
/// Opset: the lowest that holds every op used, at least 17 (``baseOpset``): 17 is the default
/// of `torch.onnx.export` and runs on every current runtime (onnxruntime >= 1.11, TensorRT 8.6);
/// a GELU raises it to 20 (the first opset with `Gelu`). BatchNormalization
/// is opset 15's (`training_mode` = 0), Softmax opset 13's (any axis).
public enum ONNXExporter {
    /// The opset used when nothing needs a newer one.
    public static let baseOpset = 17

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
    /// Transpose each at the boundary). Undeclared input layouts are taken from the ops reading
    /// them (``BoundaryLayouts``). `file` names the target in errors.
    public static func export(_ model: Model, inputsAsNHWC: Bool = false, file: String) throws -> Export {
        let model = BoundaryLayouts.annotated(model)
        let converted = try ConvertLayout(target: .channelsFirst, keepIOLayout: inputsAsNHWC).apply(to: model)
        var emitter = ONNXExportEmitter(model: converted.model, outputNames: model.outputs, file: file)
        let graph = try emitter.emit()
        let proto = ONNXProto.Model(
            irVersion: graph.opset >= 19 ? 9 : 8,
            opsetImports: [ONNXProto.OpsetImport(domain: "", version: Int64(graph.opset))],
            producerName: "bnconv", graphName: model.name.isEmpty ? "model" : model.name,
            nodes: graph.graph.nodes, initializers: graph.graph.initializers,
            inputs: graph.inputs, outputs: graph.outputs, valueInfos: [])
        let bytes = ONNXModelBuilder.build(proto, file: file).serialized()
        let counts = graph.graph.nodes.reduce(into: [String: Int]()) { $0[$1.opType, default: 0] += 1 }
        return Export(bytes: bytes, opset: graph.opset, layout: converted,
                      boundary: LayoutBoundary(source: model, converted: converted.model), opCounts: counts)
    }

    /// Exports `model` and writes it to `path` through ``AtomicFile`` (nothing written on error).
    @discardableResult
    public static func write(_ model: Model, to path: String, inputsAsNHWC: Bool = false) throws -> Export {
        let export = try export(model, inputsAsNHWC: inputsAsNHWC, file: path)
        try AtomicFile.write(export.bytes, to: path)
        return export
    }
}
