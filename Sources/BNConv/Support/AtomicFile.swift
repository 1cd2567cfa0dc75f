import Foundation

/// Writes a file so that a crash at any moment leaves the target either as it was or complete:
/// the content goes to a temporary file in the target's directory, is flushed and `fsync`ed, then
/// renamed over the target, and the directory is synced. On error the temporary file is removed
/// and the target is untouched.
public enum AtomicFile {
    /// Fills a temporary file beside `path` with `body` (which writes to the path it is given),
    /// then moves it into place.
    public static func write(to path: String, _ body: (_ temporaryPath: String) throws -> Void) throws {
        let target = URL(fileURLWithPath: path)
        let directory = target.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError(.writeFailed, file: path, problem: "the directory \(directory.path) does not exist")
        }
        let temporary = directory.appendingPathComponent(".\(target.lastPathComponent).bnconv-\(UUID().uuidString.prefix(8)).tmp").path
        do {
            try body(temporary)
            try sync(temporary, file: path)
            guard rename(temporary, path) == 0 else {
                throw CheckpointError(.writeFailed, file: path, problem: "cannot move the new file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        try? sync(directory.path, file: path)
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                throw CheckpointError(.writeFailed, file: path, problem: "cannot create a file in its directory: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Copies `source` to `path` atomically, byte for byte.
    public static func copy(from source: String, to path: String) throws {
        try write(to: path) { temporary in
            do {
                try FileManager.default.copyItem(atPath: source, toPath: temporary)
            } catch {
                throw CheckpointError(.writeFailed, file: path, problem: "cannot copy \(source): \(error.localizedDescription)")
            }
        }
    }

    /// `fsync` of a file or directory.
    private static func sync(_ path: String, file: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw CheckpointError(.writeFailed, file: file, problem: "cannot reopen \(path) to flush it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw CheckpointError(.writeFailed, file: file, problem: "cannot flush to disk: \(String(cString: strerror(errno)))")
        }
    }
}
