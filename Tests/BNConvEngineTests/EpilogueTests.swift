@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The channels-last epilogue with a residual Add: the same numbers as the steps one by one
/// (bias, BatchNorm map, Add, ReLU), and a residual of another shape refused when bound.
final class EpilogueTests: XCTestCase, EngineTestData {
    func testResidualAddMatchesTheStepsOneByOne() throws {
        let pool = BufferPool()
        let rows = 37, columns = 24
        let x = values(rows * columns, seed: 1), r = values(rows * columns, seed: 2)
        let bias = values(columns, seed: 3), scale = values(columns, seed: 4), shift = values(columns, seed: 5)
        var expected = x
        for i in expected.indices {
            let c = i % columns
            expected[i] = max(((expected[i] + bias[c]) * scale[c] + shift[c]) + r[i], 0)
        }
        let out = value([rows, columns], x, pool), residual = value([rows, columns], r, pool)
        let ops = try Epilogue.bind([.bias(bias), .affine(scale: scale, shift: shift),
                                     .residual(other: residual, output: nil), .activation(.relu())], to: out)
        Epilogue.apply(ops, output: out.pointer, rows: rows, columns: columns, parallel: .allCores)
        XCTAssertEqual(out.tensor().floats(), expected)
        XCTAssertEqual(residual.tensor().floats(), r, "the residual is only read")
    }

    func testAResidualOfAnotherShapeIsRefusedWhenBound() {
        let pool = BufferPool()
        let out = value([2, 3], values(6, seed: 1), pool), residual = value([3, 2], values(6, seed: 2), pool)
        XCTAssertThrowsError(try Epilogue.bind([.residual(other: residual, output: nil)], to: out))
        XCTAssertTrue(Epilogue.hasResidual([.bias([0]), .residual(other: residual, output: nil)]))
        XCTAssertFalse(Epilogue.hasResidual([.bias([0])]))
    }
}
