import Foundation
import BNConvCore
import BNConvFormats

/// Default output paths: `NAME.<tag>.EXT` beside the input, keeping double extensions such as
/// `.weights.h5` whole (`model.weights.h5` -> `model.folded.weights.h5`).
public enum OutputPath {
    /// Extensions bnconv treats as one.
    public static let compoundExtensions = [".weights.h5"]

    /// `input` with `tag` inserted before its extension.
    public static func beside(_ input: String, tag: String) -> String {
        let url = URL(fileURLWithPath: input)
        let name = url.lastPathComponent
        let dir = url.deletingLastPathComponent()
        if let ext = compoundExtensions.first(where: { name.hasSuffix($0) && name.count > $0.count }) {
            let stem = String(name.dropLast(ext.count))
            return path(in: dir, input: input, name: "\(stem).\(tag)\(ext)")
        }
        let ext = url.pathExtension
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        return path(in: dir, input: input, name: ext.isEmpty ? "\(stem).\(tag)" : "\(stem).\(tag).\(ext)")
    }

    /// The default output of a rewrite (`tag`) of `input`: beside it with `tag` before the
    /// extension. A TensorFlow checkpoint or SavedModel whose graph the rewrite changes
    /// (`changesGraph`: a fold) is written as a frozen GraphDef, `PREFIX.tag.pb` (`model.ckpt` ->
    /// `model.folded.pb`, `export/` -> `export.folded.pb`); one whose values alone change stays a
    /// checkpoint (`model.recalibrated.ckpt`) or SavedModel (`export.recalibrated/`). Keras
    /// TF-format weights (a checkpoint read with `config`, its architecture) stay a checkpoint
    /// either way (`weights.folded.ckpt`, the folded architecture beside it).
    public static func rewritten(_ input: String, tag: String, changesGraph: Bool = true, config: String? = nil) -> String {
        switch TensorFlowCheckpointLocation.resolve(input) {
        case .checkpoint(let prefix)?:
            let stem = prefix.hasSuffix(".ckpt") ? String(prefix.dropLast(5)) : prefix
            return stem + ".\(tag)" + (changesGraph && config == nil ? ".pb" : ".ckpt")
        case .savedModel(let directory)?:
            let trimmed = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            return trimmed + ".\(tag)" + (changesGraph ? ".pb" : "")
        case nil:
            return beside(input, tag: tag)
        }
    }

    private static func path(in dir: URL, input: String, name: String) -> String {
        input.contains("/") ? dir.appendingPathComponent(name).path : name
    }

    /// Whether two paths name the same file (after resolving links and `..`).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).resolvingSymlinksInPath().standardizedFileURL.path
            == URL(fileURLWithPath: b).resolvingSymlinksInPath().standardizedFileURL.path
    }

    /// A human size ("123 KB").
    public static func sizeText(_ bytes: Int) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .file)
    }

    /// The size of the file at `path`, or 0; for a TensorFlow checkpoint prefix, its index and
    /// data files together; for a directory (a SavedModel), every file in it.
    public static func fileSize(_ path: String) -> Int {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let files = fm.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
            return files.filter { !ModelDirectory.isDirectory(path + "/" + $0) }.reduce(0) { $0 + (FileBytes.size(of: path + "/" + $1) ?? 0) }
        }
        if let size = FileBytes.size(of: path) { return size }
        guard fm.fileExists(atPath: path + ".index") else { return 0 }
        let url = URL(fileURLWithPath: path)
        let stem = url.lastPathComponent
        let siblings = (try? fm.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)) ?? []
        return siblings.filter { $0 == stem + ".index" || $0.hasPrefix(stem + ".data-") }
            .reduce(0) { $0 + (FileBytes.size(of: url.deletingLastPathComponent().appendingPathComponent($1).path) ?? 0) }
    }
}
