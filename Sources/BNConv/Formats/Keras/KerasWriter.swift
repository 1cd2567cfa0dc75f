import Foundation

/// Writes a Model read from a Keras file back in the same flavour, with the edits a pass made
/// (removed layers, rewired inputs, modified or added weights). Always builds a new file, in a
/// temporary file beside the target that is renamed over it only on success.
public enum KerasWriter {
    /// Writes `model` to `path` in the flavour it was read from.
    public static func write(_ model: Model, to path: String) throws {
        guard let record = model.source as? KerasModelRecord else {
            throw CheckpointError(.unsupported, file: path, problem: "the model was not read from a Keras file, so there is no Keras layout to write it in")
        }
        let target = URL(fileURLWithPath: path)
        let temporary = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).bnconv-\(UUID().uuidString).tmp")
        do {
            try model.validate()
            let edits = try KerasModelEdits(model: model, record: record)
            var configText = record.configText
            if let config = record.config {
                let rewritten = try KerasConfigRewriter(edits: edits).rewrite(config)
                if rewritten != config || configText == nil { configText = rewritten.serialized() }
            }
            switch record.format {
            case .keras2H5, .keras3LegacyH5, .keras2WeightsH5:
                let file = try HDF5File.create(temporary.path)
                try KerasLegacyWriter(edits: edits, configText: record.format == .keras2WeightsH5 ? nil : configText).write(to: file)
                try file.close()
            case .keras3WeightsH5:
                let file = try HDF5File.create(temporary.path)
                try KerasStoreWriter(edits: edits).write(to: file)
                try file.close()
            case .kerasZip:
                let file = try HDF5File.createInMemory(name: path + "/model.weights.h5")
                try KerasStoreWriter(edits: edits).write(to: file)
                let image = try file.image()
                try file.close()
                try KerasArchiveWriter.write(members: record.archiveMembers, config: Array((configText ?? "").utf8), weights: image,
                                             to: temporary)
            case .graphDef, .onnx:
                throw CheckpointError(.unsupported, file: path, problem: "not a Keras format")
            }
            if rename(temporary.path, target.path) != 0 {
                throw CheckpointError(.writeFailed, file: path, problem: "cannot move the finished file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw mapWriteError(error, path: path)
        }
    }

    private static func mapWriteError(_ error: Error, path: String) -> CheckpointError {
        switch error {
        case let e as CheckpointError: return e
        case let e as HDF5Error:
            return CheckpointError(.writeFailed, file: path, place: e.path, problem: "cannot \(e.operation)" + (e.message.isEmpty ? "" : " (HDF5: \(e.message))"))
        case let e as KerasConfigError:
            return CheckpointError(.unsupported, file: path, place: e.place, problem: e.problem)
        case let e as ModelError:
            return CheckpointError(.writeFailed, file: path, problem: "the model is inconsistent: \(e)")
        default:
            return CheckpointError(.writeFailed, file: path, problem: "\(error)")
        }
    }
}
