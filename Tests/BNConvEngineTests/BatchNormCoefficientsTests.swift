@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class BatchNormCoefficientsTests: XCTestCase {
    func testMatchesTensorFlowBatchNormalizationFunction() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            let x = f.x.floats()
            let m = try BatchNormMoments(of: x, shape: f.x.shape, axis: f.axis)
            let c = BatchNormCoefficients(mean: m.mean, variance: m.variance, gamma: try f.array("gamma").doubles(),
                                          beta: try f.array("beta").doubles(), epsilon: f.epsilon)
            let g = try ChannelGeometry(shape: f.x.shape, axis: f.axis)
            assertClose(c.apply(x, geometry: g), shape: f.x.shape, try f.array("bn_fn"), name)
            // The pointer path the executor uses gives the same numbers.
            var y = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { c.apply(input: xp.baseAddress!, output: $0.baseAddress!, geometry: g) } }
            assertClose(y, shape: f.x.shape, try f.array("bn_fn"), "\(name) pointer path")
        }
    }
}
