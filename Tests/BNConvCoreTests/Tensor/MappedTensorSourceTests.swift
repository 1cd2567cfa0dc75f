@testable import BNConvCore
@testable import BNConvTestSupport
import XCTest

/// ``Tensor/mapped(dtype:shape:_:)`` and its ``MappedTensorSource``: deferred in, deferred out.
final class MappedTensorSourceTests: XCTestCase {
    func testAMappedDeferredTensorIsComputedOnlyWhenRead() throws {
        let base = Tensor(shape: [3], floats: [1, 2, 3])
        let source = CountingTensorSource(base)
        let deferred = Tensor(dtype: .float32, shape: [3], source: source)
        let doubled = deferred.mapped { Tensor(shape: $0.shape, floats: $0.floats().map { $0 * 2 }) }
        XCTAssertTrue(doubled.isDeferred)
        XCTAssertTrue(doubled.source is MappedTensorSource)
        XCTAssertEqual(source.reads, 0, "nothing read until asked")
        XCTAssertEqual(try doubled.materialized().floats(), [2, 4, 6])
        XCTAssertEqual(source.reads, 1)
    }

    func testAMappedLoadedTensorIsComputedAtOnce() throws {
        let base = Tensor(shape: [2], floats: [1, 2])
        let result = base.mapped { Tensor(shape: $0.shape, floats: $0.floats().map { -$0 }) }
        XCTAssertFalse(result.isDeferred)
        XCTAssertEqual(result.floats(), [-1, -2])
    }

    func testTheDeclaredShapeAndDTypeAreTheResults() throws {
        let deferred = Tensor(dtype: .float32, shape: [2, 2], source: CountingTensorSource(Tensor(shape: [2, 2], floats: [1, 2, 3, 4])))
        let converted = try deferred.mapped(dtype: .float64, shape: [4]) { try $0.converted(to: .float64).reshaped([4]) }
        XCTAssertEqual(converted.dtype, .float64)
        XCTAssertEqual(converted.shape, [4])
        XCTAssertEqual(try converted.materialized().doubles(), [1, 2, 3, 4])
    }

    func testAFailingBaseFailsTheResult() {
        let deferred = Tensor(dtype: .float32, shape: [1], source: CountingTensorSource(failing: CheckpointError(.malformed, file: "f.h5", problem: "gone")))
        let mapped = deferred.mapped { $0 }
        XCTAssertThrowsError(try mapped.materialized()) { error in
            XCTAssertEqual((error as? CheckpointError)?.problem, "gone")
        }
    }

    func testMappedBytesReadsTheBaseWhereItIs() throws {
        let source = CountingTensorSource(Tensor(shape: [2], floats: [1.5, -2]))
        let deferred = Tensor(dtype: .float32, shape: [2], source: source)
        let negated = try deferred.mappedBytes { raw in
            Tensor(shape: [2], floats: (0..<2).map { -raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }).bytes
        }
        XCTAssertTrue(negated.isDeferred)
        XCTAssertEqual(source.reads, 0)
        XCTAssertEqual(try negated.materialized().floats(), [-1.5, 2])
        let loaded = try Tensor(shape: [2], floats: [1, 2]).mappedBytes(dtype: .float32, shape: [1, 2]) { Array($0) }
        XCTAssertFalse(loaded.isDeferred)
        XCTAssertEqual(loaded.shape, [1, 2])
        XCTAssertThrowsError(try Tensor(shape: [2], floats: [1, 2]).mappedBytes { _ in [0] }, "a wrong byte count is refused")
    }
}
