import XCTest
@testable import BNConvCore
@testable import BNConvModel

/// The transpose arithmetic the layout pass and its check share.
final class LayoutPermutationTests: XCTestCase {
    func testTranspositionsBetweenLayouts() {
        XCTAssertEqual(LayoutPermutation.transposition(rank: 4, from: .channelsLast, to: .channelsFirst), [0, 3, 1, 2])
        XCTAssertEqual(LayoutPermutation.transposition(rank: 4, from: .channelsFirst, to: .channelsLast), [0, 2, 3, 1])
        XCTAssertEqual(LayoutPermutation.transposition(rank: 3, from: .channelsLast, to: .channelsFirst), [0, 2, 1])
        XCTAssertEqual(LayoutPermutation.transposition(rank: 5, from: .channelsLast, to: .channelsLast), [0, 1, 2, 3, 4])
        XCTAssertEqual(LayoutPermutation.transposition(rank: 2, from: .channelsLast, to: .channelsFirst), [0, 1])
    }

    /// `bridge(have, want)` applied after `have` gives `want`, checked on a real tensor.
    func testBridgeAndComposeAgreeWithTensorTransposes() throws {
        let x = Tensor(shape: [2, 3, 4, 5], doubles: (0..<120).map(Double.init), dtype: .float32)
        let have = [0, 3, 1, 2], want = [0, 2, 3, 1]
        let bridge = LayoutPermutation.bridge(from: have, to: want)
        XCTAssertEqual(try x.transposed(have).transposed(bridge), try x.transposed(want))
        XCTAssertEqual(LayoutPermutation.composed(have, bridge), want)
        XCTAssertTrue(LayoutPermutation.isIdentity(LayoutPermutation.composed(have, LayoutPermutation.inverse(have))))
        XCTAssertEqual(LayoutPermutation.permuted([2, 3, 4, 5], by: have), [2, 5, 3, 4])
        XCTAssertEqual(LayoutPermutation.position(of: 3, in: have), 1)
    }

    /// The flattened vector of a transposed tensor holds, at each place, the element of the
    /// original's flattened vector the row permutation names (checked on a real tensor).
    func testFlattenRowPermutationMatchesTheTransposedTensor() throws {
        for (dims, p) in [([4, 3, 2], [0, 3, 1, 2]), ([5, 2], [0, 2, 1]), ([2, 3, 4, 2], [0, 4, 1, 2, 3]), ([3, 2, 4], [0, 2, 1, 3])] {
            let count = dims.reduce(1, *)
            let x = Tensor(shape: [1] + dims, doubles: (0..<count).map(Double.init), dtype: .float32)
            let moved = try x.transposed(p).floats().map { Int($0) }
            XCTAssertEqual(LayoutPermutation.flattenRowPermutation(dims: dims, transposedBy: p), moved, "\(dims) \(p)")
        }
    }
}
