@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class BatchNormGradientsTests: XCTestCase {
    func testMatchesTensorFlowGradientTape() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            let layer = try f.layer()
            let g = try layer.gradients(x: f.x.floats(), dy: try f.array("dy").floats(), shape: f.x.shape)
            assertClose(g.dx, shape: f.x.shape, try f.array("grad_dx"), "\(name) dx")
            assertClose(g.dgamma, shape: [g.dgamma.count], try f.array("grad_dgamma"), "\(name) dgamma")
            assertClose(g.dbeta, shape: [g.dbeta.count], try f.array("grad_dbeta"), "\(name) dbeta")
        }
    }

    /// Central differences of `loss = sum(BN_train(x) * dy)` computed in Double.
    func testMatchesFiniteDifferences() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            let x = f.x.doubles(), dy = try f.array("dy").doubles()
            let base = try f.layer()
            let analytic = try base.gradients(x: x, dy: dy, shape: f.x.shape)
            func loss(_ layer: BatchNormLayer, _ input: [Double]) throws -> Double {
                var l = layer
                let y = try l(input, shape: f.x.shape, mode: .training(updatesMovingStatistics: false))
                return zip(y, dy).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let h = 1e-5
            var numericDx = [Double](repeating: 0, count: x.count)
            for i in x.indices {
                var plus = x, minus = x
                plus[i] += h; minus[i] -= h
                numericDx[i] = (try loss(base, plus) - loss(base, minus)) / (2 * h)
            }
            XCTAssertLessThan(relativeError(analytic.dx, numericDx), 1e-6, "\(name) dx")
            var numericGamma = [Double](), numericBeta = [Double]()
            for c in base.movingMean.indices {
                var plus = base, minus = base
                plus.gamma![c] += h; minus.gamma![c] -= h
                numericGamma.append((try loss(plus, x) - loss(minus, x)) / (2 * h))
                plus = base; minus = base
                plus.beta![c] += h; minus.beta![c] -= h
                numericBeta.append((try loss(plus, x) - loss(minus, x)) / (2 * h))
            }
            XCTAssertLessThan(relativeError(analytic.dgamma, numericGamma), 1e-6, "\(name) dgamma")
            XCTAssertLessThan(relativeError(analytic.dbeta, numericBeta), 1e-6, "\(name) dbeta")
        }
    }
}
