import Foundation

/// A file opened once for lending byte ranges of it through read-only memory mappings: a range
/// is mapped for the length of one call and unmapped after, so reading a large file range by
/// range never holds more than one range in memory and copies nothing.
///
/// A file truncated by someone else while a range is mapped raises `SIGBUS` on access; the CLI's
/// crash guard turns that into an error line (nothing is written then).
package final class MappedFile: Sendable {
    /// The path, for errors.
    let path: String
    /// The open descriptor (read-only).
    private let fd: Int32
    /// The file's size when opened.
    package let size: Int

    /// Opens `path` read-only, or `nil` when it cannot be opened.
    package init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            return nil
        }
        self.path = path
        self.fd = fd
        self.size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// The `count` bytes at `offset`, mapped read-only for as long as the returned value lives
    /// (pages are read when touched; see ``FileMapping``).
    package func mapping(offset: Int, count: Int) throws -> FileMapping {
        guard offset >= 0, count >= 0, offset <= size - count else {
            throw CheckpointError(.malformed, file: path, problem: "bytes \(offset)..<\(offset + count) lie beyond the \(size)-byte file")
        }
        return try FileMapping(fd: fd, offset: offset, count: count, path: path)
    }

    /// Calls `body` with the `count` bytes at `offset`, mapped read-only for the call.
    package func withBytes<R>(offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard offset >= 0, count >= 0, offset <= size - count else {
            throw CheckpointError(.malformed, file: path, problem: "bytes \(offset)..<\(offset + count) lie beyond the \(size)-byte file")
        }
        if count == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let length = offset - start + count
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_POPULATE   // one call maps every page instead of one fault per page
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let base = mmap(nil, length, PROT_READ, flags, fd, off_t(start)), base != MAP_FAILED else {
            throw CheckpointError(.malformed, file: path, problem: "cannot map bytes \(offset)..<\(offset + count): \(String(cString: strerror(errno)))")
        }
        defer { munmap(base, length) }
        return try body(UnsafeRawBufferPointer(start: base + (offset - start), count: count))
    }
}
