@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class BufferPoolTests: XCTestCase {
    func testBuffersReturnOnLastReleaseAndAreReusedBySize() {
        let pool = BufferPool()
        let a = pool.take(100)
        a.references += 1                      // an alias (reshape) shares it
        pool.release(a)
        XCTAssertFalse(pool.take(100) === a, "still referenced: must not be handed out again")
        pool.release(a)
        XCTAssertTrue(pool.take(100) === a, "free again: reused")
        XCTAssertFalse(pool.take(50) === a, "reuse is by exact size")
    }

    func testScratchIsReturned() {
        let pool = BufferPool()
        var seen: UnsafeMutablePointer<Float>?
        pool.withScratch(10) { seen = $0 }
        XCTAssertEqual(pool.take(10).base, seen)
    }
}
