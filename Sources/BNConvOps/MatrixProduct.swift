/// The matrix product the convolution and matrix ops share: `c += a × b` over row-major
/// matrices given by base pointer and row stride, the inner loop running along a contiguous row
/// of `b` and `c` (so it vectorizes). No BLAS: this target does not import C.
enum MatrixProduct {
    /// How many columns of `b` and `c` one pass keeps hot (the rows of that width stay in cache
    /// while every row of `a` is applied to them).
    static let columnBlock = 512

    /// `c[i][j] += Σ_p a[i][p] · b[p][j]` for `i < m`, `j < n`, `p < k`; row `i` of `a` starts at
    /// `a + i * lda`, row `p` of `b` at `b + p * ldb`, row `i` of `c` at `c + i * ldc`.
    static func accumulate<T: BinaryFloatingPoint>(m: Int, n: Int, k: Int,
                                                   _ a: UnsafePointer<T>, lda: Int,
                                                   _ b: UnsafePointer<T>, ldb: Int,
                                                   _ c: UnsafeMutablePointer<T>, ldc: Int) {
        var j0 = 0
        while j0 < n {
            let width = min(columnBlock, n - j0)
            // Four rows of c at a time: each row of b read once feeds all four.
            var i = 0
            while i + 4 <= m {
                let r0 = c + i * ldc + j0, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc
                let a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
                for p in 0..<k {
                    let f0 = a0[p], f1 = a1[p], f2 = a2[p], f3 = a3[p]
                    let bRow = b + p * ldb + j0
                    for j in 0..<width {
                        let v = bRow[j]
                        r0[j] += f0 * v
                        r1[j] += f1 * v
                        r2[j] += f2 * v
                        r3[j] += f3 * v
                    }
                }
                i += 4
            }
            while i < m {
                let row = c + i * ldc + j0
                let aRow = a + i * lda
                for p in 0..<k {
                    let factor = aRow[p]
                    let bRow = b + p * ldb + j0
                    for j in 0..<width { row[j] += factor * bRow[j] }
                }
                i += 1
            }
            j0 += width
        }
    }

    /// The same product over integers, wrapping on overflow (ONNX integer MatMul and Gemm keep
    /// the low bits, as NumPy does).
    static func accumulateWrapping(m: Int, n: Int, k: Int,
                                   _ a: UnsafePointer<Int64>, lda: Int,
                                   _ b: UnsafePointer<Int64>, ldb: Int,
                                   _ c: UnsafeMutablePointer<Int64>, ldc: Int) {
        for i in 0..<m {
            let row = c + i * ldc
            let aRow = a + i * lda
            for p in 0..<k {
                let factor = aRow[p]
                let bRow = b + p * ldb
                for j in 0..<n { row[j] = row[j] &+ factor &* bRow[j] }
            }
        }
    }
}
