#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for a command that moves whole checkpoints through memory.
///
/// By default glibc serves every buffer over its mmap threshold (128 KB, rising to 32 MB) as a fresh
/// mapping whose pages fault in, zeroed by the kernel, one by one, and unmaps it when freed, so the
/// next buffer faults in again: a fold of a 100 MB ONNX model spent most of its time in those faults
/// (sys time about 4x user time). ``apply()`` serves buffers up to 1 GB from the heap and keeps freed
/// heap memory for the next buffer, so each page faults in once per process.
///
/// Transparent huge pages (`madvise(MADV_HUGEPAGE)` on the heap) were tried too: a fold then took
/// 0.25 s instead of 0.45 s, but runs after other work stalled 2-3 s in the kernel's compaction, so
/// they are not asked for. A no-op where glibc is not the C library.
enum MemoryTuning {
    /// Applies the settings; call before any large allocation.
    static func apply() {
        #if canImport(Glibc)
        // `mallopt` and its parameters are in <malloc.h>, which the Glibc module leaves out:
        // M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (glibc's malloc.h).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 1 << 30)
        _ = mallopt(-1, Int32.max)
        #endif
    }
}
