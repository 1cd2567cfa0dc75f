@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class BatchNormMomentsTests: XCTestCase {
    func testMatchesTensorFlowMomentsForEveryLayout() throws {
        for name in BatchNormFixture.cases {
            let f = try BatchNormFixture(name)
            let m = try BatchNormMoments(of: f.x.floats(), shape: f.x.shape, axis: f.axis)
            assertClose(m.mean, shape: [m.mean.count], try f.array("moments_mean"), "\(name) mean")
            assertClose(m.variance, shape: [m.variance.count], try f.array("moments_var"), "\(name) variance")
            XCTAssertEqual(m.count, f.x.count / m.mean.count, name)
        }
    }

    func testRejectsAxisOutsideRank() {
        XCTAssertThrowsError(try BatchNormMoments(of: [Float](repeating: 0, count: 6), shape: [2, 3], axis: 2)) { error in
            XCTAssertEqual(error as? EngineError, .badAxis(2, shape: [2, 3], context: "channel axis"))
        }
    }
}
