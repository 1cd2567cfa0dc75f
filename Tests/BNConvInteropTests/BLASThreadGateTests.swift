@testable import BNConvInterop
@testable import BNConvTestSupport
import Foundation
import Synchronization
import XCTest

/// ``BLASThreadLease``: OpenBLAS's process-wide thread count changes only when no lease is held.
final class BLASThreadGateTests: XCTestCase {
    func testLeasesForOneCountHoldTogether() throws {
        let first = try BLASThreadLease(threads: 1)
        let second = try BLASThreadLease(threads: 1)   // would wait for ever if it had to wait for `first`
        XCTAssertEqual(BLAS.threadCount, 1)
        XCTAssertEqual(first.threads + second.threads, 2)
    }

    func testALeaseForAnotherCountWaitsUntilTheHeldOnesAreReturned() throws {
        let entered = Atomic<Bool>(false)
        let seen = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        do {
            let held = try BLASThreadLease(threads: 1)
            let other = Thread {
                do {
                    let lease = try BLASThreadLease(threads: 2)
                    entered.store(true, ordering: .releasing)
                    seen.store(BLAS.threadCount, ordering: .releasing)
                    _ = lease.threads
                } catch {}
                done.signal()
            }
            other.start()
            usleep(50_000)
            XCTAssertFalse(entered.load(ordering: .acquiring), "the count changed while a lease for 1 was held")
            XCTAssertEqual(BLAS.threadCount, held.threads)
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertTrue(entered.load(ordering: .acquiring))
        XCTAssertEqual(seen.load(ordering: .acquiring), 2)
        // Back to the engine's default, stopping the workers the 2-thread lease started.
        _ = try BLASThreadLease(threads: 1)
        BLAS.stopWorkers()
    }
}
