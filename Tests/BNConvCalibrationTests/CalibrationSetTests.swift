@testable import BNConvCore
@testable import BNConvCalibration
@testable import BNConvTestSupport
import XCTest

final class CalibrationSetTests: XCTestCase {
    private func sequence(_ shape: [Int], from start: Float = 0) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { start + Float($0) })
    }

    /// Batches cut the samples in order, the last one shorter.
    func testBatchesCutInOrder() throws {
        let set = try CalibrationSet(inputs: [sequence([5, 2])])
        XCTAssertEqual(set.sampleCount, 5)
        XCTAssertEqual(set.batchRanges(size: 2), [0..<2, 2..<4, 4..<5])
        let last = set.batch(4..<5)
        XCTAssertEqual(last.map(\.shape), [[1, 2]])
        XCTAssertEqual(last[0].floats(), [8, 9])
    }

    /// Several arrays join along the sample axis; differing sample shapes are refused.
    func testConcatenation() throws {
        let set = try CalibrationSet(concatenating: [sequence([2, 3]), sequence([1, 3], from: 100)])
        XCTAssertEqual(set.sampleCount, 3)
        XCTAssertEqual(set.sampleShapes, [[3]])
        XCTAssertEqual(set.batch(1..<3)[0].floats(), [3, 4, 5, 100, 101, 102])
        XCTAssertThrowsError(try CalibrationSet(concatenating: [sequence([2, 3]), sequence([2, 4])])) {
            guard case CalibrationError.badData = $0 else { return XCTFail("\($0)") }
        }
    }

    /// One array per input: counts must agree; nothing at all is refused.
    func testInputsMustAgreeOnTheSampleCount() {
        XCTAssertThrowsError(try CalibrationSet(inputs: [sequence([2, 3]), sequence([3, 3])]))
        XCTAssertThrowsError(try CalibrationSet(inputs: [])) { XCTAssertEqual($0 as? CalibrationError, .noData) }
        XCTAssertThrowsError(try CalibrationSet(inputs: [sequence([0, 3])])) { XCTAssertEqual($0 as? CalibrationError, .noData) }
    }

    /// NaN or infinity anywhere in the data is refused, naming the sample: it would make every
    /// statistic it reaches NaN, and the written file would say nothing of it.
    func testNonFiniteSamplesAreRefused() {
        var values = (0..<12).map(Float.init)
        values[7] = .nan
        XCTAssertThrowsError(try CalibrationSet(inputs: [Tensor(shape: [4, 3], floats: values)])) {
            XCTAssertEqual($0 as? CalibrationError, .badData("calibration array: sample 2 holds nan (element 7); the statistics would not be finite"))
        }
        values[7] = 0
        values[0] = -.infinity
        XCTAssertThrowsError(try CalibrationSet(concatenating: [sequence([1, 3]), Tensor(shape: [4, 3], floats: values)])) {
            XCTAssertEqual($0 as? CalibrationError, .badData("calibration array: sample 1 holds -inf (element 3); the statistics would not be finite"))
        }
        XCTAssertThrowsError(try CalibrationSet(inputs: [sequence([2, 3]), Tensor(shape: [2, 2], floats: [1, 2, .infinity, 4])])) {
            XCTAssertEqual($0 as? CalibrationError, .badData("calibration array 2: sample 1 holds inf (element 2); the statistics would not be finite"))
        }
    }
}
