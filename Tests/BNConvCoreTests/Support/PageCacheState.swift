import Foundation

/// How many of a file's pages sit in the page cache, how many of them are dirty (written, not yet on
/// their way to disk) and how many are under writeback: Linux's `cachestat` system call (6.5 and
/// later), so a test can see what ``Writeback`` did to a file.
struct PageCacheState: Equatable {
    /// Pages of the file in the page cache.
    var cached: UInt64
    /// Cached pages written and not yet handed to the disk.
    var dirty: UInt64
    /// Pages being written to disk right now.
    var writeback: UInt64

    /// `struct cachestat_range` (linux/mman.h): the byte range asked about; length 0 means to the end.
    private struct Range { var offset: UInt64 = 0; var length: UInt64 = 0 }
    /// `struct cachestat` (linux/mman.h).
    private struct Counts {
        var cache: UInt64 = 0, dirty: UInt64 = 0, writeback: UInt64 = 0, evicted: UInt64 = 0, recentlyEvicted: UInt64 = 0
    }

    /// `long syscall(long number, ...)`, called with cachestat's four arguments (the C function is
    /// variadic, which Swift cannot import, so it is looked up and called through this type).
    private typealias Syscall = @convention(c) (Int, Int32, UnsafeRawPointer, UnsafeMutableRawPointer, UInt32) -> Int

    /// `__NR_cachestat`, the same in the generic table (arm64) and on x86-64.
    private static let cachestatNumber = 451

    /// The state of `path`'s pages, or nil where the kernel (or the platform) has no `cachestat`.
    static func of(_ path: String) -> PageCacheState? {
        #if os(Linux)
        guard let symbol = dlsym(nil, "syscall") else { return nil }
        let syscall = unsafeBitCast(symbol, to: Syscall.self)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var range = Range()
        var counts = Counts()
        let status = withUnsafePointer(to: &range) { r in
            withUnsafeMutablePointer(to: &counts) { c in syscall(cachestatNumber, fd, r, c, 0) }
        }
        guard status == 0 else { return nil }
        return PageCacheState(cached: counts.cache, dirty: counts.dirty, writeback: counts.writeback)
        #else
        return nil
        #endif
    }
}
