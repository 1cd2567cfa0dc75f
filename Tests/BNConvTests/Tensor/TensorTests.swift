import XCTest
@testable import BNConv

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

    /// In-place edits change this tensor only: a copy that shared the storage keeps its values.
    func testMutableBytesCopyOnWrite() {
        let original = Tensor(shape: [3], floats: [1, 2, 3])
        var edited = original
        edited.withUnsafeMutableBytes { $0.bindMemory(to: Float.self)[1] = 20 }
        XCTAssertEqual(edited.floats(), [1, 20, 3])
        XCTAssertEqual(original.floats(), [1, 2, 3])
        XCTAssertEqual(edited.shape, [3])
    }

    /// The first NaN or infinity is found in every float dtype; integers have none.
    func testFirstNonFiniteIndex() {
        for dtype in [DType.float32, .float64, .float16, .bfloat16] {
            XCTAssertNil(Tensor(shape: [3], doubles: [1, -2, 65504], dtype: dtype).firstNonFiniteIndex(), "\(dtype)")
            XCTAssertEqual(Tensor(shape: [4], doubles: [0, 1, .nan, .infinity], dtype: dtype).firstNonFiniteIndex(), 2, "\(dtype)")
            XCTAssertEqual(Tensor(shape: [2], doubles: [-.infinity, 0], dtype: dtype).firstNonFiniteIndex(), 0, "\(dtype)")
        }
        XCTAssertNil(Tensor(shape: [2], doubles: [1, 2], dtype: .int32).firstNonFiniteIndex())
    }

    func testByteCountIsChecked() {
        XCTAssertThrowsError(try Tensor(dtype: .float32, shape: [2, 2], bytes: [0, 0, 0, 0]))
    }
}
