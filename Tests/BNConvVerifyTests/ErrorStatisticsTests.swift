@testable import BNConvCore
@testable import BNConvVerify
@testable import BNConvTestSupport
import XCTest

final class ErrorStatisticsTests: XCTestCase {
    /// A plain serial Double computation of the same statistics, to compare against.
    private func reference(_ a: [Float], _ b: [Float]) -> (maxAbs: Double, refMax: Double, cosine: Double) {
        var maxAbs = 0.0, refMax = 0.0, dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a.map(Double.init), b.map(Double.init)) {
            maxAbs = max(maxAbs, abs(x - y)); refMax = max(refMax, abs(x))
            dot += x * y; na += x * x; nb += y * y
        }
        return (maxAbs, refMax, dot / (na.squareRoot() * nb.squareRoot()))
    }

    private func values(_ n: Int, seed: UInt64) -> [Float] {
        var rng = FoldTestModels.Random(state: seed)
        return (0..<n).map { _ in Float(rng.next() * 4 - 2) }
    }

    /// Small and large (split across the cores) tensors give the serial Double statistics.
    func testMatchesASerialComputation() throws {
        for n in [7, 1 << 18] {
            let a = values(n, seed: 1)
            let b = zip(a, values(n, seed: 2)).map { $0 + 1e-3 * $1 }
            let s = try ErrorStatistics(reference: Tensor(shape: [n], floats: a), candidate: Tensor(shape: [n], floats: b))
            let r = reference(a, b)
            XCTAssertEqual(s.maxAbs, r.maxAbs, "n=\(n)")
            XCTAssertEqual(s.referenceMax, r.refMax, "n=\(n)")
            XCTAssertEqual(s.maxRel, r.maxAbs / r.refMax, "n=\(n)")
            XCTAssertEqual(s.cosine, r.cosine, accuracy: 1e-12, "n=\(n)")
            XCTAssertLessThan(s.cosine, 1)
        }
    }

    /// A NaN anywhere (here in the second half of a large tensor) makes the errors infinite.
    func testNonFiniteValuesMakeTheErrorInfinite() throws {
        let n = 1 << 17
        let a = values(n, seed: 3)
        var b = a
        b[n - 5] = .nan
        let s = try ErrorStatistics(reference: Tensor(shape: [n], floats: a), candidate: Tensor(shape: [n], floats: b))
        XCTAssertEqual(s.maxAbs, .infinity)
        XCTAssertEqual(s.maxRel, .infinity)
        let same = try ErrorStatistics(reference: Tensor(shape: [n], floats: a), candidate: Tensor(shape: [n], floats: a))
        XCTAssertEqual(same.maxAbs, 0)
        XCTAssertEqual(same.cosine, 1, accuracy: 1e-15)
    }

    /// All-zero tensors compare as equal; other shapes and dtypes are handled or refused.
    func testZerosHalfPrecisionAndShapes() throws {
        let zeros = Tensor(shape: [2, 3], floats: Array(repeating: 0, count: 6))
        let s = try ErrorStatistics(reference: zeros, candidate: zeros)
        XCTAssertEqual(s.maxRel, 0)
        XCTAssertEqual(s.cosine, 1)
        let a = values(64, seed: 4)
        let half = Tensor(shape: [64], floats: a).converted(to: .float16)
        let h = try ErrorStatistics(reference: half, candidate: Tensor(shape: [64], floats: half.floats()))
        XCTAssertEqual(h.maxAbs, 0)
        XCTAssertThrowsError(try ErrorStatistics(reference: zeros, candidate: Tensor(shape: [3, 2], floats: Array(repeating: 0, count: 6))))
    }
}
