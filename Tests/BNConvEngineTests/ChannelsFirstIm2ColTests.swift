@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The stride-2 gather of the channels-first im2col, four values a step, at every length and start.
final class ChannelsFirstIm2ColTests: XCTestCase, EngineTestData {
    /// Every geometry gathers what the definition says (each tap of each window, zero in the
    /// padding), for column ranges that start and end inside a line or on a line's edge: the
    /// whole-line copy of stride-1 "same" convolutions and the line-by-line copy alike.
    func testGatherMatchesTheDefinitionForEveryGeometryAndColumnRange() throws {
        // (channels, height, width, kernel, stride, dilation, padding before/after per axis)
        let geometries: [(c: Int, h: Int, w: Int, k: Int, s: Int, d: Int, pad: Int, padAfter: Int)] = [
            (3, 5, 7, 3, 1, 1, 1, 1),   // same, stride 1: whole lines
            (2, 6, 6, 5, 1, 1, 2, 2),   // 5x5 same
            (2, 5, 8, 3, 1, 2, 2, 2),   // dilated same
            (2, 5, 7, 3, 1, 1, 0, 0),   // valid: lines shorter than the input's
            (2, 7, 9, 3, 2, 1, 1, 1),   // stride 2
            (1, 4, 4, 3, 1, 1, 3, 3),   // padding wider than the window's reach
            (2, 6, 5, 1, 1, 1, 0, 0),   // pointwise
        ]
        for g in geometries {
            let axes = try ConvolutionKernel.windows(input: [1, g.h, g.w], window: [1, g.k, g.k], strides: [g.s, g.s],
                                                     dilations: [g.d, g.d],
                                                     padding: .explicit([Pair(g.pad, g.padAfter), Pair(g.pad, g.padAfter)]),
                                                     rank: 2)
            let (oh, ow) = (axes[1].output, axes[2].output)
            let positions = oh * ow, taps = g.k * g.k, rows = g.c * taps
            let x = values(g.c * g.h * g.w, seed: UInt64(g.h * 31 + g.k))
            func expected(_ r: Int, _ p: Int) -> Float {
                let c = r / taps, b = (r % taps) / g.k, a = r % g.k
                let yh = p / ow, yw = p % ow
                let hh = yh * g.s - g.pad + b * g.d, ww = yw * g.s - g.pad + a * g.d
                return hh < 0 || hh >= g.h || ww < 0 || ww >= g.w ? 0 : x[(c * g.h + hh) * g.w + ww]
            }
            for columns in [0..<positions, 0..<ow, 1..<positions, ow..<(positions - 1), 2..<(2 * ow + 3)] where !columns.isEmpty && columns.upperBound <= positions {
                var col = [Float](repeating: .nan, count: rows * columns.count)
                x.withUnsafeBufferPointer { xp in
                    col.withUnsafeMutableBufferPointer { cp in
                        ChannelsFirstIm2Col.fill(cp.baseAddress!, ld: columns.count, x: xp.baseAddress!, input: [1, g.h, g.w],
                                                 axes: axes, window: [1, g.k, g.k], rows: 0..<rows, columns: columns)
                    }
                }
                for r in 0..<rows {
                    for (j, p) in columns.enumerated() where col[r * columns.count + j] != expected(r, p) {
                        return XCTFail("\(g), columns \(columns): row \(r), position \(p) holds \(col[r * columns.count + j]), not \(expected(r, p))")
                    }
                }
            }
        }
    }

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
