#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for a command that moves whole checkpoints through memory.
///
/// By default glibc serves every buffer over its mmap threshold (128 KB, rising to 32 MB) as a fresh
/// mapping whose 4 KB pages fault in, zeroed by the kernel, one by one, and unmaps it when freed: a
/// fold of a 100 MB ONNX model spent most of its time in those faults (sys time about 4x user time).
/// ``apply()`` serves large buffers from the heap instead, keeps freed heap memory for the next
/// buffer, and asks for transparent huge pages on the heap it reserves up front, so a page fault
/// maps 2 MB rather than 4 KB. All of it is address space only: nothing is touched until used.
/// A no-op where glibc is not the C library.
enum MemoryTuning {
    /// Heap address space reserved up front and marked for huge pages.
    static let reservedHeapBytes = 768 << 20

    /// Applies the settings; call before any large allocation.
    static func apply() {
        #if canImport(Glibc)
        // `mallopt` and its parameters are in <malloc.h>, which the Glibc module leaves out:
        // M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (glibc's malloc.h).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        guard mallopt(-3, 1 << 30) == 1, mallopt(-1, Int32.max) == 1 else { return }
        // Grow the heap once by `reservedHeapBytes` (untouched) and free it: it stays as the heap's
        // free top (no trimming), which later buffers are carved from, and carries the advice.
        guard let block = malloc(reservedHeapBytes) else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: block) + huge - 1) / huge * huge
        let end = (Int(bitPattern: block) + reservedHeapBytes) / huge * huge
        if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
            _ = madvise(p, end - start, 14)   // MADV_HUGEPAGE (linux/mman.h)
        }
        free(block)
        #endif
    }
}
