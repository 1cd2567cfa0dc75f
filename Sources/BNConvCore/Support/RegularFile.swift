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
        let kind: String
        switch type {
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFIFO: kind = "a FIFO"
        case S_IFSOCK: kind = "a socket"
        default: kind = "a special file"
        }
        throw CheckpointError(.cannotOpen, file: path, problem: "is \(kind), not a regular file (--allow-special reads it anyway)")
    }
}
