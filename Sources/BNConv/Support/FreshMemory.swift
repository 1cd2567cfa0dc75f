import Foundation

/// Prepares a large freshly allocated buffer that is about to be filled, so that filling it does
/// not take one page fault per 4 KiB page.
///
/// On Linux: the 2 MiB-aligned interior is advised to use transparent huge pages
/// (`MADV_HUGEPAGE`, honoured in the `madvise` and `always` modes), then the whole page-aligned
/// range is prefaulted in one call (`MADV_POPULATE_WRITE`, Linux 5.14). Both are hints: an older
/// kernel or another platform simply takes the page faults. Used for a file read whole and for
/// constants decoded from it (100 MB of weights: about 25,000 faults otherwise).
enum FreshMemory {
    /// Buffers smaller than this are left alone (malloc serves them from reused heap memory).
    static let threshold = 1 << 20

    /// Advises the kernel about `count` bytes at `base` (see the type's description).
    static func prepare(_ base: UnsafeMutableRawPointer, count: Int) {
        #if os(Linux)
        guard count >= threshold else { return }
        let page = 4096, huge = 2 << 20
        let address = Int(bitPattern: base)
        let hugeStart = (address + huge - 1) & ~(huge - 1), hugeEnd = (address + count) & ~(huge - 1)
        if hugeEnd > hugeStart, let p = UnsafeMutableRawPointer(bitPattern: hugeStart) {
            _ = madvise(p, hugeEnd - hugeStart, MADV_HUGEPAGE)
        }
        let start = (address + page - 1) & ~(page - 1), end = (address + count) & ~(page - 1)
        if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
            _ = madvise(p, end - start, 23)  // MADV_POPULATE_WRITE
        }
        #endif
    }

    /// A byte array holding a copy of `source`, its storage prepared before the copy.
    static func copy(_ source: ArraySlice<UInt8>) -> [UInt8] {
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
