@testable import BNConvEngine
@testable import BNConvCalibration
@testable import BNConvTestSupport
import XCTest

final class RunningMomentsTests: XCTestCase {
    /// Merging per-batch moments gives the two-pass moments of all the data, whatever the split.
    func testMergeEqualsMomentsOfTheWholeSetForAnySplit() throws {
        let x = try fixtureArray("keras/mini_resnet/calib.npy")
        let values = x.floats()
        let whole = try BatchNormMoments(of: values, shape: x.shape, axis: -1)
        let per = x.count / x.shape[0]
        for size in [1, 3, 7, 16] {
            var running = RunningMoments(channels: x.shape.last!)
            for start in stride(from: 0, to: x.shape[0], by: size) {
                let end = min(start + size, x.shape[0])
                let part = Array(values[(start * per)..<(end * per)])
                running.merge(try BatchNormMoments(of: part, shape: [end - start] + x.shape.dropFirst(), axis: -1))
            }
            XCTAssertEqual(running.count, whole.count)
            XCTAssertLessThanOrEqual(relativeError(running.mean, whole.mean), 1e-12, "batch \(size)")
            XCTAssertLessThanOrEqual(relativeError(running.variance, whole.variance), 1e-12, "batch \(size)")
        }
    }

    /// A large offset does not destroy the variance (the merge works on deviations, not raw sums of squares).
    func testStableUnderALargeOffset() throws {
        let base = try fixtureArray("keras/dense_bn/calib.npy")
        let shifted = base.floats().map { Double($0) + 1e8 }
        let reference = try BatchNormMoments(of: base.floats(), shape: base.shape, axis: -1)
        var running = RunningMoments(channels: base.shape.last!)
        let per = base.count / base.shape[0]
        for i in 0..<base.shape[0] {
            running.merge(try BatchNormMoments(of: Array(shifted[(i * per)..<((i + 1) * per)]), shape: [1] + base.shape.dropFirst(), axis: -1))
        }
        XCTAssertLessThanOrEqual(relativeError(running.variance, reference.variance), 1e-6)
    }

    /// Nothing merged: zero count and zero variance.
    func testEmpty() {
        let running = RunningMoments(channels: 3)
        XCTAssertEqual(running.count, 0)
        XCTAssertEqual(running.variance, [0, 0, 0])
    }
}
