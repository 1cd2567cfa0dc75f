import Foundation

/// Starts writing a file's dirty pages to disk without waiting for them, so that the `fsync`
/// an ``AtomicFile`` write ends with waits only for what was written last: writers call
/// ``start(_:)`` after each large block of data, and the disk works while they produce the next.
///
/// Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`, looked up at run time (the Glibc module does
/// not declare it); a no-op where it is missing or the path cannot be opened (an in-memory file).
/// It never makes anything durable by itself and never fails.
package enum Writeback {
    /// `int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags)`.
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

    /// The C function, when the C library has it.
    private static let syncFileRange: SyncFileRange? = {
        #if os(Linux)
        guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: SyncFileRange.self)
        #else
        return nil
        #endif
    }()

    /// `SYNC_FILE_RANGE_WRITE` (linux/fs.h): start writeback of dirty pages, do not wait.
    private static let writeFlag: UInt32 = 2

    /// Asks the kernel to start writing `path`'s dirty pages now.
    package static func start(_ path: String) {
        guard let syncFileRange else { return }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = syncFileRange(fd, 0, 0, writeFlag)
        close(fd)
    }
}
