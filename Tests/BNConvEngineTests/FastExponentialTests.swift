@testable import BNConvEngine
import Foundation
import XCTest

/// The vectorizable `exp` and sigmoid against the double-precision functions, over the whole
/// range where float32 results are normal, and at the edges.
final class FastExponentialTests: XCTestCase {
    /// Inputs from -87 to 88 in steps that hit every binade and many mantissas.
    private var sweep: [Float] {
        stride(from: -87.0, through: 88.0, by: 0.0137).map { Float($0) } + [0, -0, 1e-30, -1e-30, 1, -1, 0.5, -0.5]
    }

    func testExpIsWithinTwoUlpOfTheTrueValue() {
        var worst: Double = 0
        for x in sweep {
            let truth = Foundation.exp(Double(x))
            let got = Double(FastExponential.exp(x))
            let ulp = Double(Float(truth).ulp)
            worst = max(worst, abs(got - truth) / ulp)
        }
        XCTAssertLessThanOrEqual(worst, 2, "worst error \(worst) ulp")
    }

    func testSigmoidIsWithinFourUlpAndSaturatesCleanly() {
        var worst: Double = 0
        for x in sweep + [-200, 200, -1e30, 1e30] {
            let truth = 1 / (1 + Foundation.exp(-Double(x)))
            let got = Double(FastExponential.sigmoid(x))
            guard truth > 1e-37 else { XCTAssertLessThan(got, 1e-37, "\(x)"); continue }
            worst = max(worst, abs(got - truth) / Double(Float(truth).ulp))
        }
        XCTAssertLessThanOrEqual(worst, 4, "worst error \(worst) ulp")
        XCTAssertEqual(FastExponential.sigmoid(200), 1)
        XCTAssertEqual(FastExponential.sigmoid(0), 0.5)
    }

    func testEdgesNeverOverflowAndNaNStaysNaN() {
        XCTAssertTrue(FastExponential.exp(.nan).isNaN)
        XCTAssertTrue(FastExponential.sigmoid(.nan).isNaN)
        XCTAssertTrue(FastExponential.exp(1000).isFinite)
        XCTAssertEqual(FastExponential.exp(-1000), 0)
        XCTAssertEqual(FastExponential.exp(.infinity), FastExponential.exp(FastExponential.high))
    }
}
