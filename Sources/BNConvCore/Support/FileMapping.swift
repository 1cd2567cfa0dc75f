import Foundation

/// A byte range of a file mapped read-only for as long as the value lives (``MappedFile/mapping(offset:count:)``):
/// the bytes are read where they lie in the page cache, without a copy, by whoever holds it (a
/// STORED zip member opened in place by libhdf5).
///
/// Pages are mapped when first touched (no `MAP_POPULATE`), so reading a little of a large range
/// costs a little. Unmapped in `deinit`. A file truncated by someone else while it is mapped raises
/// `SIGBUS` on access; the CLI's crash guard turns that into an error line.
package final class FileMapping: Sendable {
    /// The start of the mapping (page-aligned), as an address (a plain value, so the mapping is
    /// Sendable: it is read-only and never moves), or 0 for an empty range.
    private let base: Int
    /// The mapped length (from the page boundary before the range).
    private let length: Int
    /// Where the range starts within the mapping.
    private let shift: Int
    /// The number of bytes in the range.
    package let count: Int

    /// Maps `count` bytes at `offset` of the open descriptor `fd` (read-only); `path` names the file in errors.
    init(fd: Int32, offset: Int, count: Int, path: String) throws {
        self.count = count
        guard count > 0 else {
            base = 0
            length = 0
            shift = 0
            return
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        shift = offset - start
        length = shift + count
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, off_t(start)), mapped != MAP_FAILED else {
            throw CheckpointError(.malformed, file: path, problem: "cannot map bytes \(offset)..<\(offset + count): \(String(cString: strerror(errno)))")
        }
        base = Int(bitPattern: mapped)
    }

    deinit {
        if let start = UnsafeMutableRawPointer(bitPattern: base) { munmap(start, length) }
    }

    /// Lets go of the pages mapped so far (`MADV_DONTNEED`): they stay in the page cache, and a
    /// later read maps them again. For a long-lived mapping read in bursts (libhdf5 reading a
    /// member's metadata once), so that pages read once stop counting against the process.
    package func dropResidentPages() {
        if let start = UnsafeMutableRawPointer(bitPattern: base) { _ = madvise(start, length, MADV_DONTNEED) }
    }

    /// The mapped bytes (valid while this value lives).
    package var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: base).map { $0 + shift }, count: count)
    }
}
