@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The stride-2 gather of the channels-first im2col, four values a step, at every length and start.
final class ChannelsFirstIm2ColTests: XCTestCase {
    func testCopyEvensTakesEveryOtherValueAtAnyLengthAndStart() {
        for start in 0..<4 {
            for end in start...(start + 21) {
                // Exactly the values the range reads: s[2 * start] ... s[2 * (end - 1)].
                let source = (0..<max(2 * end - 1, 0)).map { Float($0) * 0.5 - 3 }
                var destination = [Float](repeating: .nan, count: end + 1)
                source.withUnsafeBufferPointer { s in
                    destination.withUnsafeMutableBufferPointer { d in
                        ChannelsFirstIm2Col.copyEvens(d.baseAddress!, s.baseAddress ?? UnsafePointer(bitPattern: 64)!, start..<end)
                    }
                }
                for j in start..<end { XCTAssertEqual(destination[j], source[2 * j], "start \(start), end \(end), j \(j)") }
                for j in 0..<start { XCTAssertTrue(destination[j].isNaN, "wrote before the range") }
                XCTAssertTrue(destination[end].isNaN, "wrote past the range")
            }
        }
    }
}
