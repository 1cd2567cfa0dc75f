@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The channels-first epilogue with a residual Add, on blocks of channels and columns of a
/// `(images, channels, positions)` output: the same numbers as the steps one by one, on the
/// plain (bias, affine, Add, ReLU) path and the general one (another activation after the Add).
final class ChannelsFirstEpilogueTests: XCTestCase, EngineTestData {
    func testResidualAddOnBlocksMatchesTheStepsOneByOne() throws {
        let pool = BufferPool()
        let (images, channels, positions) = (3, 5, 29)
        let count = images * channels * positions
        let x = values(count, seed: 1), r = values(count, seed: 2)
        let bias = values(channels, seed: 3), scale = values(channels, seed: 4), shift = values(channels, seed: 5)
        for last in [Activation.relu(), .tanh] {
            var expected = x
            for i in expected.indices {
                let o = (i / positions) % channels
                let sum = ((expected[i] + bias[o]) * scale[o] + shift[o]) + r[i]
                expected[i] = last == .tanh ? Foundation.tanh(sum) : max(sum, 0)
            }
            let out = value([images, channels, positions], x, pool), residual = value([images, channels, positions], r, pool)
            let ops = try Epilogue.bind([.bias(bias), .affine(scale: scale, shift: shift),
                                         .residual(other: residual, output: nil), .activation(last)], to: out)
            // Blocks as a kernel applies them: per image, two channel ranges, three column ranges.
            for n in 0..<images {
                let image = out.pointer + n * channels * positions
                for channelRange in [0..<2, 2..<channels] {
                    for columnRange in [0..<10, 10..<11, 11..<positions] {
                        ChannelsFirstEpilogue.applyBlock(ops, image: image, channels: channelRange, columns: columnRange,
                                                         positions: positions)
                    }
                }
            }
            let actual = out.tensor().floats()
            XCTAssertEqual(actual.count, expected.count)
            for i in actual.indices where abs(actual[i] - expected[i]) > (last == .tanh ? 1e-6 : 0) {
                XCTFail("\(last): element \(i) is \(actual[i]), expected \(expected[i])")
                break
            }
            pool.release(out.buffer)
            pool.release(residual.buffer)
        }
    }

    func testTheCutBeforeTheResidualKeepsEveryOpOnce() {
        let pool = BufferPool()
        let residual = value([1, 1, 1], [0], pool)
        let (scratch, inPlace) = ChannelsFirstEpilogue.splitAtResidual([.bias([1]), .residual(other: residual, output: nil),
                                                                        .activation(.relu())])
        XCTAssertEqual(scratch.count, 1)
        XCTAssertEqual(inPlace.count, 2)
        let (all, none) = ChannelsFirstEpilogue.splitAtResidual([.bias([1]), .activation(.relu())])
        XCTAssertEqual(all.count, 2)
        XCTAssertTrue(none.isEmpty)
    }
}
