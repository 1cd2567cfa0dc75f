import Foundation
import BNConvCore

/// Refuses an output that would replace one of the command's own inputs, however its path is
/// spelled (symbolic links, `..`, hard links: files are compared by device and inode), or that
/// names something other than a regular file (a device, a FIFO, a directory): bnconv writes beside
/// the target and renames over it, which would replace such a file with a regular one.
public enum OutputGuard {
    /// Throws a ``UsageError`` when `output` is one of `inputs` (paths that do not exist are
    /// skipped) or exists as anything but a regular file.
    public static func check(output: String, inputs: [String]) throws {
        guard let target = status(of: output) else { return }
        if target.st_mode & S_IFMT != S_IFREG {
            throw UsageError("\(output) is \(RegularFile.kind(of: target.st_mode)), not a regular file; bnconv writes outputs only as regular files (choose another output path)")
        }
        for input in inputs {
            guard let source = status(of: input) else { continue }
            if source.st_dev == target.st_dev && source.st_ino == target.st_ino {
                throw UsageError("the output \(output) is the input \(input)\(input == output ? "" : " (the same file under another name)"); choose another output path")
            }
        }
    }

    /// `stat` of `path` (links followed), or `nil` when there is nothing there.
    private static func status(of path: String) -> stat? {
        var result = stat()
        return stat(path, &result) == 0 ? result : nil
    }
}
