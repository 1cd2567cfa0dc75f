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
        let why = files.contains(where: isHDF5) ? " (a damaged HDF5 file can make libhdf5 loop)" : ""
        let late = "bnconv: error: \(names): reading did not finish within \(seconds) s\(why); nothing was written; set BNCONV_READ_TIMEOUT to allow longer\n"
        timeoutMessage.store(lastingCString(late), ordering: .releasing)
        signal(SIGALRM) { _ in failFromSignalHandler(timeoutMessage.load(ordering: .acquiring)) }
        alarm(seconds)
        let text = "bnconv: error: \(names): reading the file crashed a C library (signal); the file is damaged or not what its name says; nothing was written\n"
        crashMessage.store(lastingCString(text), ordering: .releasing)
        let shrunk = "bnconv: error: \(names): an input file changed size while bnconv read it (SIGBUS on a mapped page); nothing was written\n"
        shrunkMessage.store(lastingCString(shrunk), ordering: .releasing)
        installAlternateStack()
        handle(SIGSEGV) { _ in failFromSignalHandler(crashMessage.load(ordering: .acquiring)) }
        handle(SIGBUS) { _ in failFromSignalHandler(crashMessage.load(ordering: .acquiring)) }
    }

    /// Disarms the read watchdog and the crash handler once every input is read (a crash after
    /// that is bnconv's own bug and must show as one). `SIGBUS` stays handled: after reading, the
    /// only mapped pages are the inputs' (a fold that leaves weights in the file copies them from
    /// there while writing), so a `SIGBUS` means an input was truncated under bnconv.
    static func readingDone() {
        alarm(0)
        signal(SIGSEGV, SIG_DFL)
        handle(SIGBUS) { _ in failFromSignalHandler(shrunkMessage.load(ordering: .acquiring)) }
    }

    /// Whether `path` is a regular file that starts with HDF5's signature (`\x89HDF\r\n\x1a\n`, at offset 0 for the files
    /// bnconv reads) or is a zip (a `.keras`, whose weights are HDF5).
    private static func isHDF5(_ path: String) -> Bool {
        // Only a regular file is opened: opening a FIFO would block before the guard is armed.
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
              let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        return head == [0x89, 0x48, 0x44, 0x46] || head == [0x50, 0x4B, 0x03, 0x04]
    }

    /// Installs `handler` for `sig` on the alternate stack, so that a stack overflow (deep
    /// recursion in a C library) can still print its line.
    private static func handle(_ sig: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        action.sa_flags = Int32(SA_ONSTACK)
        sigemptyset(&action.sa_mask)
        sigaction(sig, &action, nil)
    }

    /// A 256 KiB signal stack for this thread (allocated once, never freed).
    private static func installAlternateStack() {
        guard !alternateStackInstalled.exchange(true, ordering: .relaxed) else { return }
        let size = 256 << 10
        guard let memory = malloc(size) else { return }
        var stack = stack_t(ss_sp: memory, ss_flags: 0, ss_size: size)
        sigaltstack(&stack, nil)
    }
}

/// The message for a `SIGBUS` after reading: an input truncated while mapped (0: none).
private let shrunkMessage = Atomic<Int>(0)
/// Whether the alternate signal stack is in place.
private let alternateStackInstalled = Atomic<Bool>(false)
