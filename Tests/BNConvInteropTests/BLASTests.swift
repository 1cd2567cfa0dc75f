@testable import BNConvInterop
@testable import BNConvTestSupport
import XCTest

final class BLASTests: XCTestCase {
    func testLoadsOpenBLASAndMultipliesRowMajor() throws {
        try BLAS.load()
        XCTAssertNotNil(BLAS.coreName)
        // [[1, 2, 3], [4, 5, 6]] x [[1, 0], [0, 1], [1, 1]] = [[4, 5], [10, 11]]
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [1, 0, 0, 1, 1, 1]
        var c = [Float](repeating: .nan, count: 4)
        BLAS.sgemm(m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [4, 5, 10, 11])
        // B stored transposed (n x k).
        let bt: [Float] = [1, 0, 1, 0, 1, 1]
        BLAS.sgemm(transposeB: true, m: 2, n: 2, k: 3, a: a, lda: 3, b: bt, ldb: 3, c: &c, ldc: 2)
        XCTAssertEqual(c, [4, 5, 10, 11])
    }

    /// One row runs as a matrix-vector product: every way A and B can be stored, sub-matrices of a
    /// wider leading dimension included, gives the product (integers: exact in float32).
    func testASingleRowMultipliesAsTheFullProductDoes() throws {
        try BLAS.load()
        let (k, n, wide) = (5, 7, 9)
        let a = (0..<k).map { Float($0 + 1) }
        let b = (0..<(k * wide)).map { Float(($0 * 7) % 11) - 5 }           // k x wide, row-major
        let expected = (0..<n).map { j in (0..<k).reduce(Float(0)) { $0 + a[$1] * b[$1 * wide + j] } }
        var c = [Float](repeating: .nan, count: n)
        BLAS.sgemm(m: 1, n: n, k: k, a: a, lda: k, b: b, ldb: wide, c: &c, ldc: n)
        XCTAssertEqual(c, expected, "B stored k x n")
        // B stored n x k (transposeB), with its rows `wide` apart.
        var bt = [Float](repeating: 0, count: n * wide)
        for i in 0..<k { for j in 0..<n { bt[j * wide + i] = b[i * wide + j] } }
        c = [Float](repeating: .nan, count: n)
        BLAS.sgemm(transposeB: true, m: 1, n: n, k: k, a: a, lda: k, b: bt, ldb: wide, c: &c, ldc: n)
        XCTAssertEqual(c, expected, "B stored n x k")
        // A stored k x 1 (transposeA), its elements `3` apart.
        var at = [Float](repeating: .nan, count: 3 * k)
        for i in 0..<k { at[i * 3] = a[i] }
        c = [Float](repeating: .nan, count: n)
        BLAS.sgemm(transposeA: true, m: 1, n: n, k: k, a: at, lda: 3, b: b, ldb: wide, c: &c, ldc: n)
        XCTAssertEqual(c, expected, "A stored k x 1")
    }

    func testTheKernelSetFollowsTheCPUUnlessTheUserChoseOne() throws {
        try BLAS.load()
        guard let features = CPUFeatures.current,
              let expected = CPUFeatures.openBLASCoreType(vendor: features.vendor, flags: features.flags) else {
            throw XCTSkip("OpenBLAS detects this CPU itself")
        }
        let chosen = String(cString: getenv("OPENBLAS_CORETYPE"))
        XCTAssertEqual(BLAS.coreName?.lowercased(), chosen.lowercased())
        if chosen == expected { XCTAssertEqual(BLAS.coreName?.lowercased(), "skylakex") }
    }
}
