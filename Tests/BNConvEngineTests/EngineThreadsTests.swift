@testable import BNConvInterop
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// ``EngineThreads``: stopping BLAS's idle workers leaves products, threaded or not, correct.
final class EngineThreadsTests: XCTestCase {
    func testProductsStayCorrectAfterTheWorkersAreStopped() throws {
        let n = 256
        let a = (0..<(n * n)).map { Float($0 % 7) - 3 }
        let identity = (0..<(n * n)).map { $0 / n == $0 % n ? Float(1) : 0 }
        EngineThreads.stopIdleBLASWorkers()
        for threads in [1, 2] {
            let lease = try BLASThreadLease(threads: threads)
            XCTAssertEqual(BLAS.threadCount, threads)
            var c = [Float](repeating: .nan, count: n * n)
            a.withUnsafeBufferPointer { pa in
                identity.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
            XCTAssertEqual(c, a, "A x I = A with \(lease.threads) BLAS thread(s)")
        }
        EngineThreads.stopIdleBLASWorkers()
    }
}
