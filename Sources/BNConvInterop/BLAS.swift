import BNConvCore

/// Single-precision matrix products through OpenBLAS's `cblas_sgemm`, the only way the engine
/// reaches BLAS. Matrices are row-major; leading dimensions are in elements. The library is loaded
/// at first use (``OpenBLASLibrary``); ``ModelRunner`` calls ``load()`` so a missing library is an
/// error at init rather than a trap in a product. Its thread count is set through a
/// ``BLASThreadLease``, held while products run.
package enum BLAS {
    /// Loads OpenBLAS if it is not loaded yet; throws saying why it cannot be.
    package static func load() throws {
        _ = try OpenBLASLibrary.shared.get()
    }

    /// The loaded library (``load()`` has succeeded before any product runs).
    @inline(__always)
    private static var library: OpenBLASLibrary {
        switch OpenBLASLibrary.shared {
        case .success(let library): return library
        case .failure(let error): fatalError("\(error)")
        }
    }

    /// The kernel set OpenBLAS runs (`Haswell`, `SkylakeX`, ...), when it says.
    package static var coreName: String? { (try? OpenBLASLibrary.shared.get())?.coreName }

    /// `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of `m x k`, `op(B)` of `k x n`, `C` of `m x n`.
    /// A single row with `beta = 0` runs as OpenBLAS's matrix-vector product (`cblas_sgemv`), which
    /// reads `B` once instead of packing it.
    ///
    /// - Parameters:
    ///   - transposeA: use `A` transposed (`A` is then stored `k x m`).
    ///   - transposeB: use `B` transposed (`B` is then stored `n x k`).
    @inline(__always)
    package static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let t = OpenBLASLibrary.transpose, nt = OpenBLASLibrary.noTranspose
        if m == 1 && beta == 0 && k > 0 {
            // One row (a dense layer at batch 1): a matrix-vector product reads B once, unpacked.
            // c = op(B)^T a: with B stored k x n that is B transposed; stored n x k (transposeB), B.
            library.sgemv(OpenBLASLibrary.rowMajor, transposeB ? nt : t, transposeB ? Int32(n) : Int32(k),
                          transposeB ? Int32(k) : Int32(n), alpha, b, Int32(ldb), a, transposeA ? Int32(lda) : 1, 0, c, 1)
            return
        }
        library.sgemm(OpenBLASLibrary.rowMajor, transposeA ? t : nt, transposeB ? t : nt,
                      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Stops OpenBLAS's worker threads (started, spinning, when the library loads) once no product
    /// holds a ``BLASThreadLease``; a later product with more than one thread starts them again.
    /// Does nothing when the library has not been loaded (then no workers exist) or does not
    /// export the call.
    package static func stopWorkers() {
        guard OpenBLASLibrary.isLoaded, case .success(let library) = OpenBLASLibrary.shared,
              let shutdown = library.shutdownThreads else { return }
        BLASThreadGate.shared.exclusively { _ = shutdown() }
    }

    /// The number of threads OpenBLAS uses for one product (set through a ``BLASThreadLease``).
    package static var threadCount: Int { Int(library.getThreads()) }
}
