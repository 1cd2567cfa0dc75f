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
/// Opset: one for the whole graph, the lowest that holds every op used, at least 17
/// (``baseOpset``): 17 is the default of `torch.onnx.export` and runs on every current runtime
/// (onnxruntime >= 1.11, TensorRT 8.6); a GELU raises it to 20 (the first opset with `Gelu`), an
/// op-library node to the opset its own form needs (a TensorFlow `Mean` read as ReduceMean with
/// its axes as an input: 18). Op-library nodes of older opsets are upgraded to the graph's
/// (`ONNXOpsetUpgrade`), TensorFlow ops lowered to ONNX ones (`ONNXTensorFlowLowering`).
/// BatchNormalization is opset 15's (`training_mode` = 0), Softmax opset 13's (any axis).
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
        // Emitted again in a newer opset when a node needs one the first pass did not foresee.
        var target = ONNXExportEmitter.opsetNeeded(by: converted, base: baseOpset)
        var graph: ONNXExportEmitter.Output
        repeat {
            var emitter = ONNXExportEmitter(model: converted, outputNames: outputNames, file: file, target: target)
            graph = try emitter.emit()
            if graph.opset <= target { break }
            target = graph.opset
        } while true
        let proto = ONNXProto.Model(
            irVersion: irVersion(opset: graph.opset),
            opsetImports: [ONNXProto.OpsetImport(domain: "", version: Int64(graph.opset))],
            producerName: "bnconv", graphName: graphName.isEmpty ? "model" : graphName,
            nodes: graph.graph.nodes, initializers: graph.graph.initializers,
            inputs: graph.inputs, outputs: graph.outputs, valueInfos: [])
        let bytes = try ONNXModelBuilder.build(proto, file: file).serialized()
        let counts = graph.graph.nodes.reduce(into: [String: Int]()) { $0[$1.opType, default: 0] += 1 }
        return Graph(bytes: bytes, opset: graph.opset, opCounts: counts)
    }

    /// The first op-library node of `model` that reads a value of rank 3 or more (or of unknown
    /// rank) by axis position, as a StridedSlice, a Pack or a TensorFlow Conv2D does; nil when
    /// every op-library node is element-wise with scalar constants or reads only vectors (shape
    /// arithmetic). Such a model is exported in its own layout: op-library ops compute in it
    /// whatever the rest does. The layout pass would be right too (it transposes such a node's
    /// input back to the layout it was written for), at the cost of a transpose around each
    /// (basic-pitch: 186 Transposes against 167).
    package static func firstAxisReadingTensorOp(in model: Model) -> Node? {
        let facts = ONNXExportFacts(model: model, floatType: .float32)
        return model.nodes.first { node in
            guard case .tensor(let op) = node.op, !node.inputs.isEmpty, !TensorOpShapes.isLayoutFree(op, node: node) else { return false }
            return node.inputs.contains { (facts.rank($0) ?? 3) >= 3 }
        }
    }

    /// The IR version that goes with `opset` (onnx's `helper.VERSION_TABLE`: opsets 17-18 IR 8,
    /// 19-20 IR 9, 21-22 IR 10, 23+ IR 11).
    static func irVersion(opset: Int) -> Int64 {
        opset >= 23 ? 11 : opset >= 21 ? 10 : opset >= 19 ? 9 : 8
    }
}
