import Foundation

/// Prepares a large freshly allocated buffer that is about to be filled, so that filling it does
/// not take one page fault per 4 KiB page.
///
/// On Linux the page-aligned range is prefaulted in one call (`MADV_POPULATE_WRITE`, Linux 5.14);
/// a hint: an older kernel or another platform simply takes the page faults. Transparent huge
/// pages (`MADV_HUGEPAGE`) are not asked for: they were faster on a quiet machine, but after other
/// work some runs stalled 2-3 s in the kernel's compaction (see `MemoryTuning` in the CLI). Used for a file read whole and for
/// constants decoded from it (100 MB of weights: about 25,000 faults otherwise).
package enum FreshMemory {
    /// Buffers smaller than this are left alone (malloc serves them from reused heap memory).
    static let threshold = 1 << 20

    /// Advises the kernel about `count` bytes at `base` (see the type's description).
    static func prepare(_ base: UnsafeMutableRawPointer, count: Int) {
        #if os(Linux)
        guard count >= threshold else { return }
        let page = 4096
        let address = Int(bitPattern: base)
        let start = (address + page - 1) & ~(page - 1), end = (address + count) & ~(page - 1)
        if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
            _ = madvise(p, end - start, 23)  // MADV_POPULATE_WRITE
        }
        #endif
    }

    /// A byte array holding a copy of `source`, its storage prepared before the copy.
    package static func copy(_ source: ArraySlice<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: source.count) { buffer, initialized in
            source.withUnsafeBufferPointer { src in
                guard let dst = buffer.baseAddress, let from = src.baseAddress else { return }
                prepare(UnsafeMutableRawPointer(dst), count: src.count)
                dst.update(from: from, count: src.count)
            }
            initialized = source.count
        }
    }
}
