import Foundation

/// Where a TensorFlow checkpoint or SavedModel lies, from what a user typed: a checkpoint prefix
/// (`model.ckpt`, or any of its files: `model.ckpt.index`, `.meta`, `.data-00000-of-00001`), a
/// directory holding a `checkpoint` state file (its latest checkpoint), or a SavedModel directory
/// (`saved_model.pb` + `variables/`).
public enum TensorFlowCheckpointLocation: Sendable, Equatable {
    /// A tensor-bundle checkpoint: its prefix.
    case checkpoint(prefix: String)
    /// A SavedModel directory.
    case savedModel(directory: String)

    /// The location `path` names, or nil when it names no TensorFlow checkpoint.
    public static func resolve(_ path: String) -> TensorFlowCheckpointLocation? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let dir = URL(fileURLWithPath: path)
            if fm.fileExists(atPath: dir.appendingPathComponent("saved_model.pb").path) { return .savedModel(directory: path) }
            if let prefix = latestCheckpoint(in: dir) { return .checkpoint(prefix: prefix) }
            return nil
        }
        for suffix in [".index", ".meta"] where path.hasSuffix(suffix) {
            let prefix = String(path.dropLast(suffix.count))
            if fm.fileExists(atPath: prefix + ".index") { return .checkpoint(prefix: prefix) }
        }
        if let range = path.range(of: ".data-", options: .backwards), path[range.upperBound...].contains("-of-") {
            let prefix = String(path[..<range.lowerBound])
            if fm.fileExists(atPath: prefix + ".index") { return .checkpoint(prefix: prefix) }
        }
        if !fm.fileExists(atPath: path), fm.fileExists(atPath: path + ".index") { return .checkpoint(prefix: path) }
        return nil
    }

    /// The prefix a `checkpoint` state file in `dir` names (`model_checkpoint_path: "model.ckpt-100"`,
    /// relative to `dir` unless absolute), when its index exists.
    static func latestCheckpoint(in dir: URL) -> String? {
        let state = dir.appendingPathComponent("checkpoint")
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: state.path),
              let size = attributes[.size] as? Int, size < 1 << 20,
              let text = try? String(contentsOf: state, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model_checkpoint_path:") {
            guard let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close else { continue }
            let name = String(line[line.index(after: open)..<close])
            let prefix = name.hasPrefix("/") ? name : dir.appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: prefix + ".index") { return prefix }
        }
        return nil
    }
}
