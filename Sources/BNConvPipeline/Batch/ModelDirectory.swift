import Foundation

/// The model files of a directory, as `bnconv fold DIR` folds them: every entry directly in it
/// (not in its subdirectories) whose name ends in an extension bnconv reads, sorted by name;
/// hidden entries (a leading `.`, such as an unfinished write's temporary file) and bnconv's own
/// outputs (`NAME.<tag>.EXT`, by default `*.folded.*`) are skipped.
public enum ModelDirectory {
    /// The extensions of the files a directory's listing takes, compared without regard to case:
    /// `.h5` (which covers `.weights.h5` and `.keras.h5`), `.hdf5`, `.keras`, `.onnx` and `.pb`.
    public static let modelExtensions = [".h5", ".hdf5", ".keras", ".onnx", ".pb"]

    /// Whether the file name `name` (no folder) is a model file a directory's listing takes: a
    /// model extension, not hidden, and not an output of bnconv tagged `tag`.
    public static func isModelFile(_ name: String, tag: String = "folded") -> Bool {
        let lower = name.lowercased()
        guard !name.hasPrefix("."), modelExtensions.contains(where: { lower.hasSuffix($0) && lower.count > $0.count }) else {
            return false
        }
        return !lower.contains(".\(tag.lowercased()).")
    }

    /// The paths of the model files directly in `directory` (`directory/NAME`, or `NAME` when the
    /// directory is `.`), sorted by name; subdirectories, and links to them, are not entered.
    public static func modelFiles(in directory: String, tag: String = "folded") throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return names.filter { isModelFile($0, tag: tag) }.sorted()
            .map { join(directory, $0) }
            .filter { !isDirectory($0) }
    }

    /// Whether `path` is a directory of model files to fold one by one: a directory that is not
    /// itself a model (a SavedModel, holding `saved_model.pb`).
    public static func isFolderOfModels(_ path: String) -> Bool {
        isDirectory(path) && !FileManager.default.fileExists(atPath: join(path, "saved_model.pb"))
    }

    /// Whether `path` is a directory (or a link to one).
    public static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// `name` inside `directory`, spelled as the user spelled the directory (`zoo/` and `zoo` give
    /// `zoo/NAME`, `.` gives `NAME`).
    static func join(_ directory: String, _ name: String) -> String {
        if directory == "." || directory == "./" { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
