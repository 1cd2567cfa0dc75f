import Foundation

/// A private working directory under the system's temporary directory, named
/// `PREFIX-PID-RANDOM`, removed by ``remove()``. A process killed with `SIGKILL` cannot remove its
/// own, so making one first removes those of the same prefix whose process (the PID in the name)
/// no longer runs; a live process's directory is never touched.
package struct ScratchDirectory: Sendable {
    /// The directory.
    package let url: URL

    /// Makes a new directory `PREFIX-PID-RANDOM` under the temporary directory, after removing the
    /// stale ones of the same prefix.
    package init(prefix: String) throws {
        let parent = FileManager.default.temporaryDirectory
        ScratchDirectory.removeStale(prefix: prefix, in: parent)
        url = parent.appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    /// Removes the directory and everything in it (best effort).
    package func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    /// The PID in the name of a directory made by ``init(prefix:)``, or `nil` when `name` is not one.
    package static func ownerPID(of name: String, prefix: String) -> pid_t? {
        guard name.hasPrefix(prefix + "-") else { return nil }
        let parts = name.dropFirst(prefix.count + 1).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 8, let pid = pid_t(parts[0]), pid > 0 else { return nil }
        return pid
    }

    /// Removes the directories of `prefix` in `parent` whose process no longer runs.
    package static func removeStale(prefix: String, in parent: URL) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for entry in entries {
            guard let pid = ownerPID(of: entry, prefix: prefix), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(entry))
        }
    }
}
