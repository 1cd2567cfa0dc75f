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
