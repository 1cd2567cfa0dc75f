import Foundation

/// The `PID-RANDOM` part of the names bnconv gives its temporary files and folders, so that a
/// later run can tell the leftovers of a process that died (killed with `SIGKILL`, which no
/// cleanup survives) from those of one still running.
package enum ProcessStamp {
    /// A new stamp of this process: its PID and 8 random characters.
    package static func make() -> String {
        "\(getpid())-\(UUID().uuidString.prefix(8))"
    }

    /// The PID in `stamp` when it is one ``make()`` made, else `nil`.
    package static func pid(in stamp: Substring) -> pid_t? {
        let parts = stamp.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 8, let pid = pid_t(parts[0]), pid > 0 else { return nil }
        return pid
    }

    /// Whether the process `pid` is another one that no longer runs (its leftovers may go).
    package static func hasEnded(_ pid: pid_t) -> Bool {
        pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }
}
