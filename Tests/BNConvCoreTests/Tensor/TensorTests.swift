import XCTest
@testable import BNConvCore
@testable import BNConvTestSupport

final class TensorTests: XCTestCase {
    func testTransposeMatchesIndexFormula() throws {
        // (2, 3, 4) -> permutation (2, 0, 1): out[k, i, j] = in[i, j, k]
        let values = (0..<24).map(Float.init)
        let t = Tensor(shape: [2, 3, 4], floats: values)
        let p = try t.transposed([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        let out = p.floats()
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            XCTAssertEqual(out[k * 6 + i * 3 + j], values[i * 12 + j * 4 + k])
        } } }
        XCTAssertEqual(try p.transposed([1, 2, 0]), t)
    }

    func testHalfAndBFloat16RoundTrip() {
        let values: [Double] = [1, -2.5, 0.333251953125, 65504, 1e-8, -0.0]
        let half = Tensor(shape: [6], doubles: values, dtype: .float16)
        XCTAssertEqual(half.bytes.count, 12)
        XCTAssertEqual(half.doubles()[0...3], [1, -2.5, 0.333251953125, 65504])
        let bf = Tensor(shape: [2], doubles: [1.0, 1.0 + 1.0 / 256.0], dtype: .bfloat16)
        // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: ties to even gives 1.
        XCTAssertEqual(bf.doubles(), [1.0, 1.0])
        let bf2 = Tensor(shape: [1], doubles: [1.0 + 3.0 / 512.0], dtype: .bfloat16)
        XCTAssertEqual(bf2.doubles(), [1.0 + 1.0 / 128.0])
    }

    func testByteCountIsChecked() {
        XCTAssertThrowsError(try Tensor(dtype: .float32, shape: [2, 2], bytes: [0, 0, 0, 0]))
    }

    func testDeferredTensorKnowsItsShapeWithoutReadingAndReadsOnDemand() throws {
        let eager = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let source = CountingTensorSource(eager)
        let deferred = Tensor(dtype: .float32, shape: [2, 3], source: source)
        XCTAssertTrue(deferred.isDeferred)
        XCTAssertEqual(deferred.shape, [2, 3])
        XCTAssertEqual(deferred.count, 6)
        XCTAssertEqual(source.reads, 0, "shape and count need no read")
        let loaded = try deferred.materialized()
        XCTAssertFalse(loaded.isDeferred)
        XCTAssertEqual(source.reads, 1)
        XCTAssertEqual(loaded, eager)
        XCTAssertEqual(try deferred.materialized().floats(), eager.floats())
        XCTAssertEqual(source.reads, 2, "a deferred tensor keeps nothing: each materialization reads again")
        XCTAssertNotEqual(deferred, eager, "comparing loads nothing: a deferred tensor equals only one with its source")
        XCTAssertEqual(deferred, Tensor(dtype: .float32, shape: [2, 3], source: source))
        XCTAssertEqual(source.reads, 2)
        XCTAssertFalse(eager.isDeferred)
        XCTAssertEqual(try eager.materialized(), eager)
    }

    func testMaterializedReportsTheSourceFailureAndAWrongByteCount() {
        let failing = Tensor(dtype: .float32, shape: [2], source: CountingTensorSource(failing: CheckpointError(.malformed, file: "f.h5", place: "/w", problem: "unreadable")))
        XCTAssertThrowsError(try failing.materialized()) { error in
            XCTAssertEqual((error as? CheckpointError)?.problem, "unreadable")
        }
        let short = Tensor(dtype: .float32, shape: [3], source: CountingTensorSource(Tensor(shape: [2], floats: [1, 2])))
        XCTAssertThrowsError(try short.materialized()) { error in
            XCTAssertEqual(error as? TensorError, .byteCountMismatch(shape: [3], dtype: .float32, expected: 12, actual: 8))
        }
    }

    func testFirstNonFiniteIndexInEveryFloatType() throws {
        for dtype in [DType.float32, .float64, .float16, .bfloat16] {
            XCTAssertNil(try Tensor(shape: [3], doubles: [1, -2, 0], dtype: dtype).firstNonFiniteIndex(), "\(dtype)")
            XCTAssertEqual(try Tensor(shape: [4], doubles: [1, 2, .infinity, .nan], dtype: dtype).firstNonFiniteIndex(), 2, "\(dtype)")
            XCTAssertEqual(try Tensor(shape: [2], doubles: [.nan, 1], dtype: dtype).firstNonFiniteIndex(), 0, "\(dtype)")
            XCTAssertEqual(try Tensor(shape: [2], doubles: [1, -.infinity], dtype: dtype).firstNonFiniteIndex(), 1, "\(dtype)")
        }
        // Past the first screened block of float32.
        var values = [Float](repeating: 0.5, count: 10_000)
        values[9_001] = .nan
        XCTAssertEqual(try Tensor(shape: [10_000], floats: values).firstNonFiniteIndex(), 9_001)
        XCTAssertNil(try Tensor(shape: [2], doubles: [1, 2], dtype: .int32).firstNonFiniteIndex())
    }

    func testADeferredTensorLendsItsBytesAndChecksTheirCount() throws {
        let eager = Tensor(shape: [3], floats: [1, .infinity, 3])
        let source = CountingTensorSource(eager)
        let deferred = Tensor(dtype: .float32, shape: [3], source: source)
        XCTAssertEqual(try deferred.withUnsafeBytes { Array($0) }, eager.bytes)
        XCTAssertEqual(try deferred.firstNonFiniteIndex(), 1)
        XCTAssertEqual(source.reads, 2)
        let short = Tensor(dtype: .float32, shape: [4], source: source)
        XCTAssertThrowsError(try short.withUnsafeBytes { _ in () }) { error in
            XCTAssertEqual(error as? TensorError, .byteCountMismatch(shape: [4], dtype: .float32, expected: 16, actual: 12))
        }
    }
}
