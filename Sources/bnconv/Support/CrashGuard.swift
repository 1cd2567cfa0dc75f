import Foundation

/// The message the signal handler writes (prepared beforehand: a handler may only call
/// async-signal-safe functions such as `write` and `_exit`).
nonisolated(unsafe) private var crashMessage: UnsafeMutablePointer<CChar>?
/// Its length in bytes.
nonisolated(unsafe) private var crashMessageLength = 0

/// The last line of defence against a damaged file that crashes a C library bnconv reads through
/// (libhdf5 1.10 dereferences addresses read from a damaged file's metadata without checking them;
/// bnconv's own readers refuse bad lengths before allocating). On `SIGSEGV` or `SIGBUS` it prints one
/// `bnconv: error:` line naming the files being read and exits with status 1 instead of dying by
/// the signal. Nothing half-written survives: outputs only replace their target by `rename` once
/// complete, and a temporary file left by the dead process is removed by the next write.
enum CrashGuard {
    /// Arms the guard for a command reading `files`.
    static func install(reading files: [String]) {
        let names = files.joined(separator: ", ")
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
}
