import CBLAS

/// Single-precision matrix products through OpenBLAS's `cblas_sgemm`, the only way the engine
/// reaches BLAS. Matrices are row-major; leading dimensions are in elements.
enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of `m x k`, `op(B)` of `k x n`, `C` of `m x n`.
    ///
    /// - Parameters:
    ///   - transposeA: use `A` transposed (`A` is then stored `k x m`).
    ///   - transposeB: use `B` transposed (`B` is then stored `n x k`).
    @inline(__always)
    static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Stops OpenBLAS's worker threads (started, spinning, when the library loads); a later
    /// product with more than one thread starts them again.
    static func stopWorkers() { cblas_shim_stop_workers() }

    /// The number of threads OpenBLAS uses for one product.
    static var threadCount: Int {
        get { Int(cblas_shim_get_threads()) }
        set { cblas_shim_set_threads(Int32(max(1, newValue))) }
    }
}
