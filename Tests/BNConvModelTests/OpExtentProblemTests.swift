@testable import BNConvModel
import XCTest

/// `Op.windowProblem`, which `Model.validate()` (so every reader) applies: the window sizes,
/// padding, cropping, upsampling factors, permutations and reshape targets a file declares must
/// be in range before shape inference or a kernel computes with them. Each case was a trap
/// (SIGILL) in `run` or `inspect` when a crafted Keras config declared it.
final class OpExtentProblemTests: XCTestCase {
    private func pool(_ size: [Int], strides: [Int] = [1, 1]) -> Op {
        .pool(Pool(kind: .max, poolSize: size, strides: strides, padding: .valid, layout: .channelsLast))
    }

    func testWindowSizesAreBetweenOneAndInt32Max() {
        XCTAssertNil(pool([2, 2]).windowProblem)
        XCTAssertNil(pool([Int(Int32.max), 1]).windowProblem)
        XCTAssertEqual(pool([1 << 62, 2]).windowProblem, "declares pool size [4611686018427387904, 2]; each must be from 1 to 2147483647")
        XCTAssertEqual(pool([2, 2], strides: [0, 1]).windowProblem, "declares strides [0, 1]; each must be from 1 to 2147483647")
        let conv = Convolution(rank: 2, filters: 4, kernelSize: [3, 3], strides: [1, 1], dilations: [1 << 62, 1], padding: .same, layout: .channelsLast)
        XCTAssertEqual(Op.conv(conv).windowProblem, "declares dilations [4611686018427387904, 1]; each must be from 1 to 2147483647")
    }

    func testAPermutationOrdersEveryAxisOnce() {
        XCTAssertNil(Op.permute(permutation: [2, 1, 3]).windowProblem)
        for bad in [[-1, 2], [1, 1], [0, 1], [1, 1 << 31]] {
            XCTAssertEqual(Op.permute(permutation: bad).windowProblem,
                           "declares the permutation \(bad); it must order the axes 1...2, each once")
        }
    }

    func testAReshapeTargetHasSizesInRangeAndOneUnknownAtMost() {
        XCTAssertNil(Op.reshape(targetShape: [4, -1]).windowProblem)
        for bad in [[1 << 62, 4], [Int.min, 2], [-1, -1], [-2, 3]] {
            XCTAssertEqual(Op.reshape(targetShape: bad).windowProblem,
                           "declares the target shape \(bad); each size must be from 0 to 2147483647, or -1 once")
        }
    }
}
