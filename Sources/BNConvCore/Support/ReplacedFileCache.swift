import Dispatch
import Foundation
import Synchronization

/// Drops the page cache of a file about to be replaced, on another core, while the new content is
/// being made.
///
/// `rename` of a new file over an old one frees the old file's cached pages before it returns
/// (a 100 MB target: about 25 ms here, the same cost `cp` pays when it truncates). Asking the kernel
/// to drop those pages first (`posix_fadvise(POSIX_FADV_DONTNEED)`) on a second core takes that work
/// off the path the user waits on. It never changes the file's content: only clean pages are
/// dropped (dirty ones stay for writeback), and the file is still replaced only by the atomic
/// `rename`. It is skipped on one core, for small files, and when this process itself has the file
/// open (an in-place rewrite still reading its input through the cache).
///
/// The old file is also kept open until it has been replaced (``letGo()``): `rename` then only
/// unlinks it, and freeing its blocks (on a file system mounted with `discard`, 15-20 ms for
/// 100 MB, spent waiting for the device) happens on another core when that descriptor is closed,
/// while the writer syncs the directory and reports.
final class ReplacedFileCache: Sendable {
    /// Signalled when the release has finished.
    private let done = DispatchSemaphore(value: 0)
    /// Whether a release was started and not yet waited for (held while waiting, so that every
    /// caller of ``wait()`` returns only once the release has finished).
    private let pending: Mutex<Bool>
    /// The old file, held open by the release until ``letGo()`` (or deinit), or -1.
    private let held = LockedValue<Int32>(-1)

    /// Starts releasing the cache of `path` when it is a regular file of at least `minimumBytes`.
    init(releasing path: String, minimumBytes: Int = 8 << 20) {
        var info = stat()
        guard ProcessInfo.processInfo.activeProcessorCount > 1, stat(path, &info) == 0,
              info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) >= minimumBytes,
              !Self.openInThisProcess(device: info.st_dev, inode: info.st_ino) else {
            pending = Mutex(false)
            return
        }
        pending = Mutex(true)
        DispatchQueue.global(qos: .utility).async { [done, held] in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
                held.value = fd
            }
            done.signal()
        }
    }

    deinit {
        wait()
        if held.value >= 0 { close(held.value) }
    }

    /// Closes the old file on another core, once it has been replaced (its blocks are freed then).
    func letGo() {
        wait()
        let fd = held.value
        guard fd >= 0 else { return }
        held.value = -1
        DispatchQueue.global(qos: .utility).async { close(fd) }
    }

    /// Releases started ahead of the write, by target path (``start(for:)``).
    private static let early = Mutex<[String: ReplacedFileCache]>([:])

    /// Starts releasing `path`'s cache now; the write to `path` picks it up (``started(for:)``).
    static func start(for path: String) {
        let release = ReplacedFileCache(releasing: path)
        early.withLock { $0[path] = release }
    }

    /// The release started ahead for `path`, handed over once.
    static func started(for path: String) -> ReplacedFileCache? {
        early.withLock { $0.removeValue(forKey: path) }
    }

    /// Waits until the release, if any, has finished (call before replacing the file); later calls
    /// return at once.
    func wait() {
        pending.withLock { pending in
            if pending {
                done.wait()
                pending = false
            }
        }
    }

    /// Whether one of this process's open file descriptors refers to the file `device`/`inode`
    /// (Linux `/proc/self/fd`; elsewhere, or when it cannot be listed, assumed open: nothing is dropped).
    static func openInThisProcess(device: dev_t, inode: ino_t) -> Bool {
        guard let directory = opendir("/proc/self/fd") else { return true }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            guard let fd = Int32(name), fd != own else { continue }
            var info = stat()
            if fstat(fd, &info) == 0 && info.st_dev == device && info.st_ino == inode { return true }
        }
        return false
    }
}
