@testable import BNConvCore
@testable import BNConvPasses
@testable import BNConvTestSupport
import XCTest

final class ChannelViewTests: XCTestCase {
    /// Scaling reads and writes storage at any address: from or into bytes at an odd address the
    /// result is the aligned one, for a channels-last and a channels-first kernel, and every
    /// element is `Float(Double(w) * scale[channel])`.
    func testScaleIsTheSameAtOddAddresses() throws {
        let views = [(ChannelView.output(of: .hwio, shape: [3, 2, 4, 5])!, [3, 2, 4, 5]),
                     (ChannelView.output(of: .oihw, shape: [5, 4, 3, 2])!, [5, 4, 3, 2])]
        for (view, shape) in views {
            let n = shape.reduce(1, *)
            let weights = (0..<n).map { Float($0) * 0.37 - 11 }
            let factors = (0..<5).map { 0.5 + Double($0) * 0.3 }
            let raw = Tensor(shape: shape, floats: weights).bytes
            let aligned = raw.withUnsafeBytes { view.scaledBytes($0, dtype: .float32, shape: shape, by: factors) }
            let expected = (0..<n).map { i -> Float in
                let channel = view.inner == 1 ? i % view.channels : (i / view.inner) % view.channels
                return Float(Double(weights[i]) * factors[channel])
            }
            XCTAssertEqual(Tensor(dtype: .float32, shape: shape, exactBytes: aligned).floats(), expected)
            var shifted = [UInt8](repeating: 0, count: raw.count + 1)
            shifted.replaceSubrange(1..., with: raw)
            let fromOdd = shifted.withUnsafeBytes { src in
                [UInt8](unsafeUninitializedCapacity: raw.count) { buffer, initialized in
                    view.scale(UnsafeRawBufferPointer(rebasing: src[1...]), into: UnsafeMutableRawBufferPointer(buffer),
                               dtype: .float32, shape: shape, by: factors)
                    initialized = raw.count
                }
            }
            XCTAssertEqual(fromOdd, aligned, "source at an odd address")
            var intoOdd = [UInt8](repeating: 0, count: raw.count + 1)
            raw.withUnsafeBytes { src in
                intoOdd.withUnsafeMutableBytes { dst in
                    view.scale(src, into: UnsafeMutableRawBufferPointer(rebasing: dst[1...]), dtype: .float32, shape: shape, by: factors)
                }
            }
            XCTAssertEqual(Array(intoOdd[1...]), aligned, "destination at an odd address")
        }
    }
}
