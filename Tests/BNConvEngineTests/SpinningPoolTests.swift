@testable import BNConvEngine
@testable import BNConvTestSupport
import Foundation
import XCTest
import Synchronization

final class SpinningPoolTests: XCTestCase {
    /// Every iteration of many short jobs runs exactly once, and the caller returns after all of them.
    func testEveryIterationRunsOnceAcrossManyJobs() {
        let pool = SpinningPool(workers: 1)
        for count in [2, 3, 17, 1000] {
            for _ in 0..<200 {
                var hits = [Int](repeating: 0, count: count)
                let ran = hits.withUnsafeMutableBufferPointer { buffer -> Bool in
                    let base = buffer.baseAddress!
                    return pool.run(count) { i in base[i] += 1 }
                }
                XCTAssertTrue(ran)
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "count \(count)")
            }
        }
    }

    /// A nested call, or a call from another thread while a job runs, is refused (the caller then
    /// runs its work another way) and never deadlocks.
    func testNestedAndConcurrentCallsAreRefusedNotBlocked() {
        let pool = SpinningPool(workers: 1)
        let nested = Atomic<Int>(0)
        XCTAssertTrue(pool.run(4) { _ in
            if !pool.run(2, { _ in }) { nested.wrappingAdd(1, ordering: .relaxed) }
        })
        XCTAssertEqual(nested.load(ordering: .relaxed), 4)
        let done = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<50 {
                let total = Atomic<Int>(0)
                if !pool.run(8, { i in total.wrappingAdd(i, ordering: .relaxed) }) {
                    for i in 0..<8 { total.wrappingAdd(i, ordering: .relaxed) }
                }
                if total.load(ordering: .relaxed) == 28 { done.wrappingAdd(1, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(done.load(ordering: .relaxed), 200)
    }

    /// A pool without workers runs nothing and says so.
    func testNoWorkersRefuses() {
        XCTAssertFalse(SpinningPool(workers: 0).run(4) { _ in XCTFail("ran") })
    }
}
