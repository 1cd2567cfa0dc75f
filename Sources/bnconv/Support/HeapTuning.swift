#if canImport(Glibc)
import Glibc
#endif

/// Process-wide malloc settings for commands that stream many large weights one after another.
enum HeapTuning {
    /// Keeps freed blocks of up to 256 MiB in the heap for the next allocation instead of
    /// returning them to the kernel: a fold that reads, scales and writes kernel after kernel then
    /// reuses the same pages rather than faulting in fresh zeroed ones for every kernel (glibc's
    /// default hands large blocks back at once). Peak memory is unchanged: it is set by what is
    /// alive at once, not by what was freed. Does nothing where glibc's `mallopt` is missing.
    static func reuseFreedMemory() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which the Glibc module does not export.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 256 << 20)   // M_MMAP_THRESHOLD (glibc malloc.h)
        _ = mallopt(-1, 512 << 20)   // M_TRIM_THRESHOLD
        #endif
    }
}
