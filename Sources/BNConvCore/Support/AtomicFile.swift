import Foundation

/// Writes a file so that a crash at any moment leaves the target either as it was or complete:
/// the content goes to a temporary file in the target's directory, is flushed and `fsync`ed, then
/// renamed over the target, and the directory is synced. On error the temporary file is removed
/// and the target is untouched.
///
/// When the target exists, its cached pages are released on another core while the new content is
/// made (`ReplacedFileCache`), so that the `rename` does not spend that time.
///
/// The temporary file is named `.NAME.bnconv-PID-RANDOM.tmp` (NAME cut to its first 200 bytes for a
/// long name, so that the temporary's name stays within the 255 bytes a file name may have). A process killed with `SIGKILL`
/// cannot remove it, so each write first removes the temporaries of the same target whose
/// writing process (the PID in the name) no longer exists; a temporary of a live process is
/// never touched.
public enum AtomicFile {
    /// Fills a temporary file beside `path` with `body` (which writes to the path it is given),
    /// then moves it into place.
    public static func write(to path: String, _ body: (_ temporaryPath: String) throws -> Void) throws {
        let target = URL(fileURLWithPath: path)
        let directory = target.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError(.writeFailed, file: path, problem: "the directory \(directory.path) does not exist")
        }
        removeStaleTemporaries(of: path)
        let temporary = directory.appendingPathComponent(temporaryName(for: target.lastPathComponent)).path
        let replaced = ReplacedFileCache.started(for: path) ?? ReplacedFileCache(releasing: path)
        defer { replaced.wait() }
        do {
            try body(temporary)
            try sync(temporary, file: path)
            replaced.wait()
            guard rename(temporary, path) == 0 else {
                throw CheckpointError(.writeFailed, file: path, problem: "cannot move the new file into place: \(String(cString: strerror(errno)))")
            }
            replaced.letGo()
        } catch {
            unlink(temporary)
            throw error
        }
        try? sync(directory.path, file: path)
    }

    /// Starts releasing the cached pages of `path` (when it exists and is large) on another core
    /// now, for a command that will replace it with ``write(to:_:)`` once its new content is
    /// made: the release then overlaps the reading and computing instead of the final `rename`.
    /// Harmless when nothing is written in the end: only clean cached pages are dropped.
    public static func prepareToReplace(_ path: String) {
        ReplacedFileCache.start(for: path)
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { temporary in
            do {
                try FileBytes.create(temporary, bytes: bytes)
            } catch {
                throw CheckpointError(.writeFailed, file: path, problem: "cannot create a file in its directory: \(error)")
            }
        }
    }

    /// Copies `source` to `path` atomically, byte for byte.
    public static func copy(from source: String, to path: String) throws {
        try write(to: path) { temporary in
            if let reason = copyBytes(from: source, to: temporary) {
                throw CheckpointError(.writeFailed, file: path, problem: "cannot copy \(source): \(reason)")
            }
        }
    }

    /// Copies the bytes of `source` into a new file `destination` in 1 MiB blocks; the system's
    /// reason (`strerror`, "No space left on device") on failure, nil on success.
    private static func copyBytes(from source: String, to destination: String) -> String? {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return String(cString: strerror(errno)) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { return String(cString: strerror(errno)) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return String(cString: strerror(errno)) }
            if n == 0 { return nil }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { Foundation.write(output, $0.baseAddress! + written, n - written) }
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { return String(cString: w < 0 ? strerror(errno) : strerror(ENOSPC)) }
                written += w
            }
        }
    }

    /// The temporary file name for a target named `name`: `.NAME.bnconv-PID-RANDOM.tmp`, NAME
    /// being ``temporaryStem(for:)``.
    static func temporaryName(for name: String) -> String {
        ".\(temporaryStem(for: name)).bnconv-\(ProcessStamp.make()).tmp"
    }

    /// The longest a temporary's copy of the target's name may be, in bytes: with the 30 bytes
    /// around it (`.`, `.bnconv-`, a PID of up to 10 digits, `-`, 8 characters, `.tmp`), a
    /// temporary name stays within NAME_MAX (255 bytes on Linux and macOS).
    static let maximumStemBytes = 200

    /// The part of a target's name its temporaries carry: the whole name, or, for a longer one,
    /// its first ``maximumStemBytes`` bytes cut on a character boundary.
    static func temporaryStem(for name: String) -> String {
        guard name.utf8.count > maximumStemBytes else { return name }
        var stem = ""
        for character in name {
            if stem.utf8.count + character.utf8.count > maximumStemBytes { break }
            stem.append(character)
        }
        return stem
    }

    /// The PID in a temporary file name made by ``temporaryName(for:)`` for a target named `name`,
    /// or nil when `candidate` is not one.
    static func writerPID(ofTemporary candidate: String, for name: String) -> pid_t? {
        let prefix = ".\(temporaryStem(for: name)).bnconv-"
        guard candidate.hasPrefix(prefix), candidate.hasSuffix(".tmp") else { return nil }
        return ProcessStamp.pid(in: candidate.dropFirst(prefix.count).dropLast(".tmp".count))
    }

    /// Removes the temporaries of `path` left by writers that died (their PID no longer runs).
    /// Best effort: anything it cannot list or remove is left alone.
    public static func removeStaleTemporaries(of path: String) {
        let target = URL(fileURLWithPath: path)
        let directory = target.deletingLastPathComponent().path
        let name = target.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries {
            guard let pid = writerPID(ofTemporary: entry, for: name) else { continue }
            if ProcessStamp.hasEnded(pid) {
                unlink((directory as NSString).appendingPathComponent(entry))
            }
        }
    }

    /// `fsync` of a file or directory.
    private static func sync(_ path: String, file: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw CheckpointError(.writeFailed, file: file, problem: "cannot reopen \(path) to flush it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw CheckpointError(.writeFailed, file: file, problem: "cannot flush to disk: \(String(cString: strerror(errno)))")
        }
    }
}
