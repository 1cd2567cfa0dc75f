import Foundation
import BNConv

/// The message the signal handler writes (prepared beforehand: a handler may only call
/// async-signal-safe functions such as `write` and `_exit`).
nonisolated(unsafe) private var crashMessage: UnsafeMutablePointer<CChar>?
/// Its length in bytes.
nonisolated(unsafe) private var crashMessageLength = 0
/// The message the read watchdog writes when reading takes too long.
nonisolated(unsafe) private var timeoutMessage: UnsafeMutablePointer<CChar>?
/// Its length in bytes.
nonisolated(unsafe) private var timeoutMessageLength = 0

/// The last line of defence against a damaged file that crashes a C library bnconv reads through
/// (libhdf5 1.10 dereferences addresses read from a damaged file's metadata without checking them;
/// bnconv's own readers refuse bad lengths before allocating). On `SIGSEGV` or `SIGBUS` it prints one
/// `bnconv: error:` line naming the files being read and exits with status 1 instead of dying by
/// the signal. Nothing half-written survives: outputs only replace their target by `rename` once
/// complete, and a temporary file left by the dead process is removed by the next write.
///
/// It also arms a watchdog on the reading phase (``readingDone()`` disarms it): libhdf5 can loop
/// forever on a damaged global heap. After `BNCONV_READ_TIMEOUT` seconds (default 120 plus one second
/// per 10 MB of input) the command prints one error line naming the files and exits with status 1.
enum CrashGuard {
    /// Arms the guard and the read watchdog for a command reading `files`.
    static func install(reading files: [String]) {
        let names = files.joined(separator: ", ")
        let bytes = files.reduce(0) { total, f in
            total + (FileBytes.size(of: f) ?? 0)
        }
        let seconds = ProcessInfo.processInfo.environment["BNCONV_READ_TIMEOUT"].flatMap { UInt32($0) }
            ?? UInt32(min(120 + bytes / 10_000_000, 86_400))
        let late = "bnconv: error: \(names): reading did not finish within \(seconds) s (a damaged file can make the HDF5 library loop); nothing was written; set BNCONV_READ_TIMEOUT to allow longer\n"
        timeoutMessage = strdup(late)
        timeoutMessageLength = late.utf8.count
        signal(SIGALRM) { _ in
            if let message = timeoutMessage { _ = write(2, message, timeoutMessageLength) }
            _exit(1)
        }
        alarm(seconds)
        let text = "bnconv: error: \(names): reading the file crashed a C library (signal); the file is damaged or not what its name says; nothing was written\n"
        crashMessage = strdup(text)
        crashMessageLength = text.utf8.count
        for sig in [SIGSEGV, SIGBUS] {
            signal(sig) { _ in
                if let message = crashMessage { _ = write(2, message, crashMessageLength) }
                _exit(1)
            }
        }
    }

    /// Disarms the read watchdog and the crash handlers once every input is read (a crash after
    /// that is bnconv's own bug and must show as one).
    static func readingDone() {
        alarm(0)
        signal(SIGSEGV, SIG_DFL)
        signal(SIGBUS, SIG_DFL)
    }
}
