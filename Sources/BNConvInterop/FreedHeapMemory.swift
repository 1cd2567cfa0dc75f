/// Memory the process's allocator holds freed but still resident.
///
/// glibc's malloc gives threads heaps ("arenas") of their own and keeps what they free for their
/// next allocations, so when work moves to other threads (a verification's fold checks on every
/// core, after the two whole-model runs on two threads) the freed memory of the first threads stays
/// resident beside the new threads' (ResNet-50's verified fold: 20-30 MB more peak RSS).
package enum FreedHeapMemory {
    /// Returns the allocator's free pages in every heap to the system (glibc `malloc_trim(0)`; a
    /// no-op elsewhere). Takes about a millisecond; nothing allocated is touched.
    package static func release() {
        #if os(Linux) && canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if os(Linux) && canImport(Glibc)
/// glibc's `int malloc_trim(size_t pad)` (malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
