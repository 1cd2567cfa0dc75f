@testable import BNConvCore
@testable import BNConvTestSupport
import XCTest

final class TensorPrefetcherTests: XCTestCase {
    private struct ReadFailure: Error {}

    /// `count` deferred tensors of distinct values whose sources may be read on another thread.
    private func deferred(_ count: Int, concurrent: Bool = true) -> [(tensor: Tensor, expected: Tensor)] {
        (0..<count).map { i in
            let expected = Tensor(shape: [3, 5], floats: (0..<15).map { Float(i * 100 + $0) })
            return (Tensor(dtype: .float32, shape: [3, 5], source: CountingTensorSource(expected, concurrent: concurrent)), expected)
        }
    }

    /// Taken in order, every tensor comes back loaded with its own bytes.
    func testTakesInOrderReturnLoadedTensors() throws {
        let items = deferred(6)
        let prefetcher = TensorPrefetcher(items.map(\.tensor), ahead: 2)
        for item in items {
            let taken = try XCTUnwrap(try prefetcher.take(item.tensor))
            XCTAssertFalse(taken.isDeferred)
            XCTAssertEqual(taken.shape, item.expected.shape)
            XCTAssertEqual(taken.bytes, item.expected.bytes)
        }
    }

    /// Skipping tensors drops them (no hang); asking twice, or for a tensor it never held, gives nil.
    func testSkippedRepeatedAndUnknownTensors() throws {
        let items = deferred(5)
        let prefetcher = TensorPrefetcher(items.map(\.tensor), ahead: 1)
        XCTAssertEqual(try prefetcher.take(items[3].tensor)?.bytes, items[3].expected.bytes)
        XCTAssertNil(try prefetcher.take(items[1].tensor), "a tensor already passed is loaded by the caller")
        XCTAssertNil(try prefetcher.take(items[3].tensor))
        XCTAssertNil(try prefetcher.take(Tensor(shape: [1], floats: [1])), "a loaded tensor is never held")
        XCTAssertEqual(try prefetcher.take(items[4].tensor)?.bytes, items[4].expected.bytes)
    }

    /// Sources that must stay on the caller's thread (the serial HDF5) are never read by it.
    func testSourcesThatMustStayOnTheCallersThreadAreLeftAlone() throws {
        let items = deferred(3, concurrent: false)
        let prefetcher = TensorPrefetcher(items.map(\.tensor))
        for item in items {
            XCTAssertNil(try prefetcher.take(item.tensor))
            XCTAssertEqual((item.tensor.source as! CountingTensorSource).reads, 0)
        }
    }

    /// A failed load is reported by `take` for that tensor only.
    func testFailureIsReportedForItsTensor() throws {
        let good = deferred(2)
        let bad = Tensor(dtype: .float32, shape: [2], source: CountingTensorSource(failing: ReadFailure(), concurrent: true))
        let prefetcher = TensorPrefetcher([good[0].tensor, bad, good[1].tensor])
        XCTAssertEqual(try prefetcher.take(good[0].tensor)?.bytes, good[0].expected.bytes)
        XCTAssertThrowsError(try prefetcher.take(bad)) { XCTAssertTrue($0 is ReadFailure) }
        XCTAssertEqual(try prefetcher.take(good[1].tensor)?.bytes, good[1].expected.bytes)
    }

    /// Dropped early (a writer that failed), it stops loading: it reads at most `ahead` + 1 more.
    func testDroppingStopsTheLoading() throws {
        let items = deferred(20)
        var prefetcher: TensorPrefetcher? = TensorPrefetcher(items.map(\.tensor), ahead: 2)
        _ = try prefetcher?.take(items[0].tensor)
        prefetcher = nil
        Thread.sleep(forTimeInterval: 0.2)
        let reads = items.map { ($0.tensor.source as! CountingTensorSource).reads }.reduce(0, +)
        XCTAssertLessThanOrEqual(reads, 4, "read \(reads) of 20 after being dropped at the first")
    }
}
