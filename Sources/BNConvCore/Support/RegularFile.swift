import Foundation

/// The check every read makes first: a model, an architecture or an array is read from a regular
/// file. A FIFO or a terminal would block for ever, a device such as `/dev/zero` never ends, and a
/// directory is no file: each is refused, naming the path and what it is, unless the caller allows
/// special files.
package enum RegularFile {
    /// Throws a ``CheckpointError`` (`.cannotOpen`) when `path` (links followed) exists and is not
    /// a regular file, unless `allowingSpecial` (a directory is refused either way). A missing
    /// path is left to the read, which says so.
    package static func require(_ path: String, allowingSpecial: Bool) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        let type = status.st_mode & S_IFMT
        if type == S_IFREG { return }
        if type == S_IFDIR {
            throw CheckpointError(.cannotOpen, file: path, problem: "is a directory, not a checkpoint file")
        }
        if allowingSpecial { return }
        throw CheckpointError(.cannotOpen, file: path, problem: "is \(kind(of: status.st_mode)), not a regular file (--allow-special reads it anyway)")
    }

    /// What a file of mode `mode` is, for a message: "a directory", "a FIFO", "a character device", ...
    package static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }
}
