import BNConvCore
import BNConvModel
import BNConvInterop

/// Row-major `C = A * op(B)` split across the cores by the engine itself, each part a single-threaded
/// `cblas_sgemm`. OpenBLAS's own threads stay off (a run's default, ``RunOptions/blasThreads``): its workers
/// spin between calls and would fight the engine's element-wise work for the same cores.
enum ParallelGEMM {
    /// Work (multiply-adds) below which one thread does the whole product.
    static let serialLimit = 1 << 18

    /// `C[m x n] = A[m x k] * B[k x n]` (or `B` stored `n x k` when `transposeB`), `beta = 0`, on
    /// `parallel`'s cores.
    static func multiply(transposeB: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                         parallel: Parallel) {
        let small = m * n * k < serialLimit
        let rowParts = small ? 1 : parallel.parts(m, minimum: 16)
        let columnParts = small ? 1 : parallel.parts(n, minimum: 16)
        if rowParts == 1 && columnParts == 1 {
            BLAS.sgemm(transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
        } else if rowParts >= columnParts {
            // Split rows: each part packs B itself, A and C rows are disjoint.
            parallel.forEach(rowParts) { p in
                let lo = m * p / rowParts, hi = m * (p + 1) / rowParts
                BLAS.sgemm(transposeB: transposeB, m: hi - lo, n: n, k: k, a: a + lo * lda, lda: lda,
                           b: b, ldb: ldb, c: c + lo * ldc, ldc: ldc)
            }
        } else {
            // Few rows: split the columns of B and C.
            parallel.forEach(columnParts) { p in
                let lo = n * p / columnParts, hi = n * (p + 1) / columnParts
                BLAS.sgemm(transposeB: transposeB, m: m, n: hi - lo, k: k, a: a, lda: lda,
                           b: transposeB ? b + lo * ldb : b + lo, ldb: ldb, c: c + lo, ldc: ldc)
            }
        }
    }
}
