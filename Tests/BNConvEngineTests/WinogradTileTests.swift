@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The Winograd matrices reproduce a 3x3 cross-correlation exactly (in double precision), and the
/// filter transform lays out `G g G^T` as the kernel reads it.
final class WinogradTileTests: XCTestCase {
    private func product(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        a.map { row in (0..<b[0].count).map { j in zip(row, b).reduce(0) { $0 + $1.0 * $1.1[j] } } }
    }

    private func transposed(_ a: [[Double]]) -> [[Double]] {
        (0..<a[0].count).map { j in a.map { $0[j] } }
    }

    private func values(_ count: Int, seed: UInt64) -> [Double] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(Int(state >> 40) % 2001 - 1000) / 1000
        }
    }

    func testTheMatricesComputeA3x3CrossCorrelation() {
        for tile in [WinogradTile.f2x2, .f4x4] {
            let a = tile.alpha, m = tile.m
            XCTAssertEqual(tile.g.count, a)
            XCTAssertEqual(tile.bt.count, a)
            XCTAssertEqual(tile.at.count, m)
            let dFlat = values(a * a, seed: 3), gFlat = values(9, seed: 4)
            let d = (0..<a).map { Array(dFlat[($0 * a)..<($0 * a + a)]) }
            let g = (0..<3).map { Array(gFlat[($0 * 3)..<($0 * 3 + 3)]) }
            let u = product(product(tile.g, g), transposed(tile.g))
            let v = product(product(tile.bt, d), transposed(tile.bt))
            let uv = (0..<a).map { i in (0..<a).map { j in u[i][j] * v[i][j] } }
            let y = product(product(tile.at, uv), transposed(tile.at))
            for r in 0..<m {
                for k in 0..<m {
                    var direct = 0.0
                    for p in 0..<3 { for q in 0..<3 { direct += d[r + p][k + q] * g[p][q] } }
                    XCTAssertEqual(y[r][k], direct, accuracy: 1e-12, "\(tile) output (\(r), \(k))")
                }
            }
        }
    }

    func testTransformedFiltersAreGgGTPerOutputAndInputChannel() {
        let outputs = 3, inputs = 5
        let kernel = values(outputs * inputs * 9, seed: 9).map(Float.init)
        for tile in [WinogradTile.f2x2, .f4x4] {
            let a = tile.alpha
            let u = tile.transformFilters(kernel, outputs: outputs, inputs: inputs)
            XCTAssertEqual(u.count, tile.elements * outputs * inputs)
            for o in 0..<outputs {
                for c in 0..<inputs {
                    let base = (o * inputs + c) * 9
                    let g = (0..<3).map { p in (0..<3).map { q in Double(kernel[base + p * 3 + q]) } }
                    let expected = product(product(tile.g, g), transposed(tile.g))
                    for i in 0..<a {
                        for j in 0..<a {
                            XCTAssertEqual(u[((i * a + j) * outputs + o) * inputs + c], Float(expected[i][j]), accuracy: 1e-7,
                                           "\(tile) U[\(i * a + j)][\(o)][\(c)]")
                        }
                    }
                }
            }
        }
    }
}
