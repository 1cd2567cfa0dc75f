@testable import BNConvFormats
@testable import BNConvCalibration
@testable import BNConvTestSupport
import XCTest

final class MovingAverageConventionTests: XCTestCase {
    /// Each fixture flavour picks its own framework's rule.
    func testConventionFollowsTheFile() throws {
        let expected: [(String, MovingAverageConvention)] = [
            ("keras/dense_bn/keras2.h5", .tfKeras), ("keras/dense_bn/keras2.keras", .tfKeras),
            ("keras/dense_bn/keras3.keras", .keras3), ("keras/dense_bn/keras3_legacy.h5", .keras3),
        ]
        for (path, convention) in expected {
            XCTAssertEqual(MovingAverageConvention.of(try Checkpoint.read(FixturePaths.url(path).path)), convention, path)
        }
    }

    /// tf-keras stores the unbiased variance on 4-D input only; PyTorch's momentum is one minus Keras's.
    func testRules() {
        XCTAssertEqual(MovingAverageConvention.tfKeras.movingAverage(momentum: 0.9, inputRank: 4), .keras(momentum: 0.9, variance: .unbiased))
        XCTAssertEqual(MovingAverageConvention.tfKeras.movingAverage(momentum: 0.9, inputRank: 2), .keras(momentum: 0.9, variance: .biased))
        XCTAssertEqual(MovingAverageConvention.keras3.movingAverage(momentum: 0.9, inputRank: 4), .keras(momentum: 0.9, variance: .biased))
        XCTAssertEqual(MovingAverageConvention.onnx.movingAverage(momentum: 0.9, inputRank: 4), .keras(momentum: 0.9, variance: .biased))
        XCTAssertEqual(MovingAverageConvention.pytorch.movingAverage(momentum: 0.9, inputRank: 4), .pytorch(momentum: 1 - 0.9))
    }
}
