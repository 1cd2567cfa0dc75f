import Foundation
import Synchronization
import BNConv

/// The address of the message the signal handler writes (0: none): a C string prepared beforehand,
/// because a handler may only call async-signal-safe functions such as `strlen`, `write` and
/// `_exit` (a lock-free atomic load is safe there too). The string is made once by `strdup`, never
/// changed and never freed, so its address is all that crosses threads.
private let crashMessage = Atomic<Int>(0)
/// The address of the message the read watchdog writes when reading takes too long (0: none).
private let timeoutMessage = Atomic<Int>(0)

/// Writes the C string at `address` (if any) to standard error and exits with status 1; only
/// async-signal-safe calls.
private func failFromSignalHandler(_ address: Int) -> Never {
    if let message = UnsafePointer<CChar>(bitPattern: address) { _ = write(2, message, strlen(message)) }
    _exit(1)
}

/// A lasting copy of `text` as a C string (never freed), by address.
private func lastingCString(_ text: String) -> Int {
    Int(bitPattern: strdup(text))
}

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
        timeoutMessage.store(lastingCString(late), ordering: .releasing)
        signal(SIGALRM) { _ in failFromSignalHandler(timeoutMessage.load(ordering: .acquiring)) }
        alarm(seconds)
        let text = "bnconv: error: \(names): reading the file crashed a C library (signal); the file is damaged or not what its name says; nothing was written\n"
        crashMessage.store(lastingCString(text), ordering: .releasing)
        for sig in [SIGSEGV, SIGBUS] {
            signal(sig) { _ in failFromSignalHandler(crashMessage.load(ordering: .acquiring)) }
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
