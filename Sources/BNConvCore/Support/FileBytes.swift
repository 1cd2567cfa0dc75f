import Foundation

/// Whole-file reads and writes straight between the file and a `[UInt8]`, with no `Data` in
/// between: a 100 MB model is then copied once, not twice, and its buffer's pages are touched once
/// (for large files the copies, and the page faults of each fresh buffer, are most of a fold's time).
public enum FileBytes {
    /// The bytes of the file at `path`, at most `limit` of them (a device such as `/dev/zero`, read
    /// with `--allow-special`, never ends); throws the system's message (`strerror`) on failure.
    public static func read(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileBytesError(operation: "open", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileBytesError(operation: "stat", errno: errno) }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw FileBytesError(operation: "read", errno: EISDIR) }
        guard Int(info.st_size) <= limit else { throw FileBytesError(operation: "read", errno: EFBIG, limit: limit) }
        var bytes = [UInt8](unsafeUninitializedCapacity: Int(info.st_size)) { buffer, count in
            count = 0
            if let base = buffer.baseAddress { FreshMemory.prepare(UnsafeMutableRawPointer(base), count: buffer.count) }
            while count < buffer.count {
                let n = Foundation.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                count += n
            }
        }
        // A file that grew since fstat (or a special file reporting size 0): read the rest.
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw FileBytesError(operation: "read", errno: errno) }
            if n == 0 { break }
            guard bytes.count + n <= limit else { throw FileBytesError(operation: "read", errno: EFBIG, limit: limit) }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// ``read(_:)`` for checkpoint readers: a failure is a ``CheckpointError`` naming the file and
    /// the system's reason.
    package static func contents(of path: String, limit: Int = Int.max) throws -> [UInt8] {
        do { return try read(path, limit: limit) } catch let error as FileBytesError {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot read the file (\(error))")
        }
    }

    /// The size in bytes of the file at `path` (`stat`, links followed), or nil when it cannot be
    /// read. No user or group names are looked up, unlike `FileManager.attributesOfItem`.
    public static func size(of path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// Creates the file at `path` (it must not exist) holding `bytes`.
    public static func create(_ path: String, bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileBytesError(operation: "create", errno: errno) }
        defer { close(fd) }
        let code = bytes.withUnsafeBytes { writeAll(fd, $0) }
        if code != 0 { throw FileBytesError(operation: "write", errno: code) }
    }

    /// Writes every byte of `bytes` to `fd`: at `offset` (`pwrite`) when given, else at the file
    /// position. Retries after signals and short writes; returns 0, or the `errno` of the failure
    /// (`EIO` when the system wrote nothing).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int? = nil) -> Int32 {
        var done = 0
        while done < bytes.count {
            let rest = bytes.baseAddress! + done, count = bytes.count - done
            let n = offset.map { pwrite(fd, rest, count, off_t($0 + done)) } ?? write(fd, rest, count)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            done += n
        }
        return 0
    }
}

/// A failed system call of ``FileBytes``, with the system's message.
public struct FileBytesError: Error, CustomStringConvertible {
    /// What was being done (`open`, `read`, `write`, ...).
    public let operation: String
    /// The `errno` value.
    public let code: Int32

    /// The most bytes the read would take, when it stopped there (`EFBIG`).
    public let limit: Int?

    /// Captures `errno`.
    init(operation: String, errno code: Int32, limit: Int? = nil) {
        self.operation = operation
        self.code = code
        self.limit = limit
    }

    /// `"OPERATION failed: MESSAGE"`, or what the limit was.
    public var description: String {
        if let limit { return "it holds more than \(limit) bytes, the most bnconv reads from it" }
        return "\(operation) failed: \(String(cString: strerror(code)))"
    }
}
