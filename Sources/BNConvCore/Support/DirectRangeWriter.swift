import Foundation

/// Writes byte ranges of a file that another library is laying out, at the offsets it reported
/// (libhdf5 says where a dataset's contiguous storage lies): the whole ``AlignedBuffer/alignment``
/// blocks of a range go straight to the disk (`O_DIRECT`), the partial blocks at its ends through
/// the page cache, which the library's own writes of neighbouring bytes share.
///
/// Direct writes leave no page-cache pages to allocate and later drop, and the final `fsync` has
/// little left to do; in a virtual machine that hands freed pages back to its host, fresh
/// page-cache pages are the costly part of writing 100 MB. Where `O_DIRECT` cannot be used (a file
/// system without it, a region not placed by ``AlignedBuffer``, a device that refuses the
/// alignment) the range is written through the page cache instead; the bytes are the same.
///
/// The kernel keeps both paths coherent: a direct write first writes back and then drops any
/// cached page it covers. Thread-safe: ranges are independent `pwrite`s.
final class DirectRangeWriter: Sendable {
    /// The file being written.
    let path: String
    /// A descriptor through the page cache.
    private let bufferedDescriptor: Int32
    /// A descriptor opened with `O_DIRECT`, or -1.
    private let directDescriptor: Int32
    /// Set once a direct write failed with `EINVAL`: the rest go through the page cache.
    private let directRefused = LockedValue(false)

    /// Opens the existing file at `path` for writing.
    init(path: String, direct: Bool = true) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DirectRangeWriterError(path: path, range: nil, reason: String(cString: strerror(errno))) }
        self.path = path
        bufferedDescriptor = fd
        directDescriptor = direct && Self.directFlag != 0 ? open(path, O_WRONLY | O_CLOEXEC | Self.directFlag) : -1
    }

    /// Linux's `O_DIRECT`, which the Glibc module does not export (it needs `_GNU_SOURCE`):
    /// 0o40000 on x86 (asm-generic/fcntl.h), 0o200000 on arm64 (arch/arm64/include/uapi/asm/fcntl.h);
    /// 0 (not used) elsewhere.
    static let directFlag: Int32 = {
        #if os(Linux) && (arch(x86_64) || arch(i386))
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return 0
        #endif
    }()

    deinit {
        close(bufferedDescriptor)
        if directDescriptor >= 0 { close(directDescriptor) }
    }

    /// Whether whole blocks can go to the disk directly.
    var writesDirectly: Bool { directDescriptor >= 0 && !directRefused.value }

    /// Writes `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard bytes.count > 0, let start = bytes.baseAddress else { return }
        let a = AlignedBuffer.alignment
        let end = offset + bytes.count
        let first = (offset + a - 1) / a * a, last = end / a * a
        let aligned = Int(bitPattern: start + (first - offset)) % a == 0
        guard writesDirectly, aligned, last > first else {
            try pwriteAll(bufferedDescriptor, bytes, at: offset)
            return
        }
        if first > offset { try pwriteAll(bufferedDescriptor, UnsafeRawBufferPointer(rebasing: bytes[..<(first - offset)]), at: offset) }
        let middle = UnsafeRawBufferPointer(rebasing: bytes[(first - offset)..<(last - offset)])
        do {
            try pwriteAll(directDescriptor, middle, at: first)
        } catch let error as DirectRangeWriterError where error.code == EINVAL {
            directRefused.value = true
            try pwriteAll(bufferedDescriptor, middle, at: first)
        }
        if end > last { try pwriteAll(bufferedDescriptor, UnsafeRawBufferPointer(rebasing: bytes[(last - offset)...]), at: last) }
    }

    /// `pwrite` until every byte is written (``FileBytes/writeAll(_:_:at:)``).
    private func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        let code = FileBytes.writeAll(fd, bytes, at: offset)
        if code != 0 {
            throw DirectRangeWriterError(path: path, range: offset..<(offset + bytes.count), reason: String(cString: strerror(code)), code: code)
        }
    }
}

/// A write of a ``DirectRangeWriter`` that failed.
struct DirectRangeWriterError: Error, CustomStringConvertible {
    /// The file.
    var path: String
    /// The bytes that were being written, or nil when the file could not be opened.
    var range: Range<Int>?
    /// The system's reason.
    var reason: String
    /// The `errno` value.
    var code: Int32 = 0

    /// A one-line description.
    var description: String {
        guard let range else { return "cannot open the new file to write its weights: \(reason)" }
        return "cannot write bytes \(range.lowerBound)..<\(range.upperBound) of the new file: \(reason)"
    }
}
