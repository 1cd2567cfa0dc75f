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
        url = parent.appendingPathComponent("\(prefix)-\(ProcessStamp.make())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    /// Removes the directory and everything in it (best effort).
    package func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    /// The PID in the name of a directory made by ``init(prefix:)``, or `nil` when `name` is not one.
    package static func ownerPID(of name: String, prefix: String) -> pid_t? {
        guard name.hasPrefix(prefix + "-") else { return nil }
        return ProcessStamp.pid(in: name.dropFirst(prefix.count + 1))
    }

    /// Removes the directories of `prefix` in `parent` whose process no longer runs.
    package static func removeStale(prefix: String, in parent: URL) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for entry in entries {
            guard let pid = ownerPID(of: entry, prefix: prefix), ProcessStamp.hasEnded(pid) else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(entry))
        }
    }
}
