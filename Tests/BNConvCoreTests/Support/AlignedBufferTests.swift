@testable import BNConvCore
@testable import BNConvTestSupport
import XCTest

final class AlignedBufferTests: XCTestCase {
    /// A region starts at the same place within a 4096-byte block as its file offset, and the
    /// buffer's memory is reused for smaller regions.
    func testRegionsMatchTheirFileOffsetsAndReuseTheBlock() {
        let buffer = AlignedBuffer()
        for offset in [0, 1, 4095, 4096, 12_345, 1 << 20] {
            let region = buffer.region(count: 10_000, forFileOffset: offset)
            XCTAssertEqual(region.count, 10_000)
            XCTAssertEqual(Int(bitPattern: region.baseAddress!) % AlignedBuffer.alignment, offset % AlignedBuffer.alignment, "offset \(offset)")
        }
        let capacity = buffer.capacity
        XCTAssertGreaterThanOrEqual(capacity, 4095 + 10_000)
        _ = buffer.region(count: 100, forFileOffset: 7)
        XCTAssertEqual(buffer.capacity, capacity, "a smaller region reuses the block")
        let large = buffer.region(count: 1 << 20, forFileOffset: 3)
        XCTAssertGreaterThanOrEqual(buffer.capacity, 3 + (1 << 20))
        large.initializeMemory(as: UInt8.self, repeating: 7)   // the whole region is writable
        XCTAssertEqual(large.last, 7)
    }
}
