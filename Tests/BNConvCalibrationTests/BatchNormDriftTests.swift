@testable import BNConvCalibration
@testable import BNConvTestSupport
import XCTest

final class BatchNormDriftTests: XCTestCase {
    /// Mean change in old standard deviations, variance change relative; max and mean over channels.
    func testDriftMeasures() {
        let d = BatchNormDrift(node: "bn", oldMean: [0, 1], oldVariance: [4, 1], newMean: [1, 1], newVariance: [4, 3], epsilon: 0)
        XCTAssertEqual(d.channels, 2)
        XCTAssertEqual(d.meanMaxChange, 0.5, accuracy: 1e-15)
        XCTAssertEqual(d.meanMeanChange, 0.25, accuracy: 1e-15)
        XCTAssertEqual(d.varianceMaxChange, 2, accuracy: 1e-15)
        XCTAssertEqual(d.varianceMeanChange, 1, accuracy: 1e-15)
    }

    /// Unchanged statistics drift by zero; a zero old variance stays finite through epsilon.
    func testNoChangeAndZeroVariance() {
        let same = BatchNormDrift(node: "bn", oldMean: [3], oldVariance: [2], newMean: [3], newVariance: [2], epsilon: 1e-3)
        XCTAssertEqual(same.meanMaxChange, 0)
        XCTAssertEqual(same.varianceMaxChange, 0)
        let zero = BatchNormDrift(node: "bn", oldMean: [0], oldVariance: [0], newMean: [1], newVariance: [1], epsilon: 1e-3)
        XCTAssertTrue(zero.meanMaxChange.isFinite && zero.varianceMaxChange.isFinite)
    }
}
