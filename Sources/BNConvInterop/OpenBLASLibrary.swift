#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import BNConvCore

/// OpenBLAS, loaded with `dlopen` at the first matrix product rather than linked, so that its kernel
/// set can be chosen before the library initializes (OpenBLAS reads `OPENBLAS_CORETYPE` once, in its
/// load-time constructor). Debian's OpenBLAS 0.3.21 does not know AMD's AVX-512 cores (Zen 4, Zen 5)
/// and falls back to its AVX2 `Haswell` kernels, half the width the hardware has; on those CPUs the
/// `SkylakeX` kernels are selected unless the user set `OPENBLAS_CORETYPE` (``CPUFeatures/openBLASCoreType(vendor:flags:)``):
/// the variable is set without being read, `setenv` keeping a value already there.
/// The library stays loaded for the process's life (its functions are kept, its handle is not).
struct OpenBLASLibrary: Sendable {
    /// `cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)`.
    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    /// `cblas_sgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)`.
    typealias SGEMV = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    /// `openblas_set_num_threads(n)`.
    typealias SetThreads = @convention(c) (Int32) -> Void
    /// `openblas_get_num_threads()`.
    typealias GetThreads = @convention(c) () -> Int32
    /// `openblas_get_corename()`.
    typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
    /// `blas_thread_shutdown_()`: exported by OpenBLAS (its own fork handler uses it), not declared
    /// in its headers; stops the worker threads, which the next threaded product starts again.
    typealias ThreadShutdown = @convention(c) () -> Int32

    /// Whether ``shared`` has been loaded (set once, by its initializer); lets callers that only
    /// want to quiet an already-loaded library avoid loading it.
    static var isLoaded: Bool { loaded.load(ordering: .acquiring) }

    /// Set once ``shared`` has loaded the library.
    private static let loaded = Atomic<Bool>(false)

    /// CBLAS enum values (cblas.h): row-major order, no transpose, transpose.
    static let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112

    /// The file names tried, in order.
    static let candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblas.0.dylib", "libopenblas.dylib"]

    /// The process's library: loaded once, on first use, after choosing its kernels.
    static let shared: Result<OpenBLASLibrary, OpenBLASLoadError> = {
        // Overwrite 0: a kernel set the user chose stays (and the environment is never read here).
        if let core = CPUFeatures.current.flatMap({ CPUFeatures.openBLASCoreType(vendor: $0.vendor, flags: $0.flags) }) {
            setenv("OPENBLAS_CORETYPE", core, 0)
        }
        do {
            let library = try OpenBLASLibrary()
            loaded.store(true, ordering: .releasing)
            return .success(library)
        } catch {
            return .failure(error as? OpenBLASLoadError ?? OpenBLASLoadError(problem: "\(error)"))
        }
    }()

    /// The matrix product.
    let sgemm: SGEMM
    /// `cblas_sgemv`.
    let sgemv: SGEMV
    /// Thread-count setter.
    let setThreads: SetThreads
    /// Thread-count getter.
    let getThreads: GetThreads
    /// The kernel set OpenBLAS chose (`Haswell`, `SkylakeX`, ...), when it says.
    let coreName: String?
    /// Worker-thread shutdown, when the loaded OpenBLAS exports it.
    let shutdownThreads: ThreadShutdown?

    private init() throws {
        var errors: [String] = []
        var opened: UnsafeMutableRawPointer?
        for name in OpenBLASLibrary.candidates {
            if let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) { opened = h; break }
            errors.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let handle = opened else { throw OpenBLASLoadError(problem: errors.joined(separator: "; ")) }
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else {
                dlclose(handle)
                throw OpenBLASLoadError(problem: "the loaded OpenBLAS has no '\(name)'")
            }
            return unsafeBitCast(p, to: type)
        }
        sgemm = try symbol("cblas_sgemm", as: SGEMM.self)
        sgemv = try symbol("cblas_sgemv", as: SGEMV.self)
        setThreads = try symbol("openblas_set_num_threads", as: SetThreads.self)
        getThreads = try symbol("openblas_get_num_threads", as: GetThreads.self)
        coreName = dlsym(handle, "openblas_get_corename")
            .flatMap { unsafeBitCast($0, to: CoreName.self)() }.map { String(cString: $0) }
        shutdownThreads = dlsym(handle, "blas_thread_shutdown_").map { unsafeBitCast($0, to: ThreadShutdown.self) }
    }
}

/// OpenBLAS could not be loaded: the dynamic loader's messages.
struct OpenBLASLoadError: Error, CustomStringConvertible {
    /// What the loader said.
    let problem: String

    /// One line with the fix.
    var description: String {
        "OpenBLAS could not be loaded (\(problem)); install it (Debian/Ubuntu: apt-get install libopenblas0)"
    }
}
