import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Builds a new ONNX model from a channels-first ``Model`` (the layout pass has already run:
/// `ONNXExporter` in the pipeline layer runs it, then this).
///
/// Unlike ``ONNXWriter``, which edits the ONNX file a model was read from, this makes every record
/// itself: one or a few ONNX nodes per model node, weights rewritten by ``ChannelsFirstWeights``,
/// TF SAME padding made explicit by `ONNXExportPadding`. Floating weights are stored in the graph
/// input's dtype (ONNX requires one element type per op).
///
/// Opset: the lowest that holds every op used, at least 17 (``baseOpset``): 17 is the default
/// of `torch.onnx.export` and runs on every current runtime (onnxruntime >= 1.11, TensorRT 8.6);
/// a GELU raises it to 20 (the first opset with `Gelu`). BatchNormalization
/// is opset 15's (`training_mode` = 0), Softmax opset 13's (any axis).
public enum ONNXGraphExporter {
    /// The opset used when nothing needs a newer one.
    public static let baseOpset = 17

    /// A serialized ONNX model.
    public struct Graph: Sendable {
        /// The serialized `ModelProto`.
        public var bytes: [UInt8]
        /// The opset imported.
        public var opset: Int
        /// ONNX node counts by op type.
        public var opCounts: [String: Int]
    }

    /// Serializes `converted`, a channels-first model, as an ONNX `ModelProto`; `outputNames` are
    /// the graph outputs' names (the source model's), `graphName` the graph's; `file` names the
    /// target in errors.
    public static func export(channelsFirst converted: Model, outputNames: [String], graphName: String,
                              file: String) throws -> Graph {
        var emitter = ONNXExportEmitter(model: converted, outputNames: outputNames, file: file)
        let graph = try emitter.emit()
        let proto = ONNXProto.Model(
            irVersion: graph.opset >= 19 ? 9 : 8,
            opsetImports: [ONNXProto.OpsetImport(domain: "", version: Int64(graph.opset))],
            producerName: "bnconv", graphName: graphName.isEmpty ? "model" : graphName,
            nodes: graph.graph.nodes, initializers: graph.graph.initializers,
            inputs: graph.inputs, outputs: graph.outputs, valueInfos: [])
        let bytes = try ONNXModelBuilder.build(proto, file: file).serialized()
        let counts = graph.graph.nodes.reduce(into: [String: Int]()) { $0[$1.opType, default: 0] += 1 }
        return Graph(bytes: bytes, opset: graph.opset, opCounts: counts)
    }
}
