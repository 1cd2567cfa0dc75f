import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Writes a ``Model`` read by ``ONNXReader`` back to an `.onnx` file.
///
/// The original file is unpacked again and edited, so every untouched record (node attributes,
/// doc strings, metadata, fields bnconv's schema leaves out) is written back as it was, and an
/// untouched model comes out byte for byte identical. Edits: nodes in the model's order, removed
/// nodes dropped; node inputs and outputs renamed as the model says; modified weights rewritten in
/// their dtype as `raw_data`; a weight with no stored initializer (a bias a fold added) becomes a
/// new initializer with a name that collides with nothing, wired into the node's bias slot
/// (Conv/ConvTranspose/Gemm input 2, or a new `Add` after a lone `MatMul`); initializers, graph
/// inputs and value_infos left without a reader are dropped. When a fold removed the node that
/// wrote a graph output, the value that now carries it takes the output's name, so the model's
/// interface keeps its names. The file is written to a temporary file beside the target and
/// renamed into place only when complete. A model read with its weights left in the file (a fold
/// without verification) is written without copying them into memory: untouched initializers
/// are lent from the input's mapping, folded ones computed beside the packed message.
public enum ONNXWriter {
    /// Writes `model` to `path` through ``AtomicFile`` (a synced temporary file beside the target,
    /// renamed into place; nothing is written on error). The file is written as it is packed
    /// (through a 1 MiB buffer), never held whole in memory.
    public static func write(_ model: Model, to path: String) throws {
        try write(model, changes: nil, to: path)
    }

    /// ``write(_:to:)`` with the model's ``ModelChanges`` worked out already (`nil`: worked out here).
    static func write(_ model: Model, changes: ModelChanges?, to path: String) throws {
        let message = try edited(model, changes: changes, file: path)
        try AtomicFile.write(to: path) { temporary in
            // Initializers still to be computed (folded kernels of a fold without verification)
            // are left as gaps, filled on the other cores as soon as the packing has passed them.
            let gaps = ComputedTensorGaps(path: temporary, target: path)
            try ByteSink.writing(to: temporary, file: path) { sink in message.serialize(to: sink) { gaps.add($0, at: $1) } }
            try gaps.finish()
        }
    }

    /// The bytes of `model` as an ONNX file; `file` names the target in errors.
    public static func serialize(_ model: Model, file: String) throws -> [UInt8] {
        try edited(model, changes: nil, file: file).serialized()
    }

    /// The source file's message with the model's changes (`changes`, or worked out here) applied.
    private static func edited(_ model: Model, changes: ModelChanges?, file: String) throws -> ONNXModelMessage {
        guard let record = model.source as? ONNXModelRecord else {
            throw CheckpointError(.unsupported, file: file,
                                  problem: "the model was not read from an ONNX file; bnconv writes ONNX only for models it read from ONNX")
        }
        guard let changes = changes ?? ModelChanges(model) else { throw CheckpointError.noReadOutline(file: file) }
        var plan = try ONNXWritePlan(model: model, record: record, changes: changes, file: file)
        let edit = try plan.makeEdit()
        let message = try ONNXModelMessage(origin: record.origin, file: file)
        message.apply(edit)
        return message
    }
}
