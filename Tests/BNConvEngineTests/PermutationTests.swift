@testable import BNConvCore
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

final class PermutationTests: XCTestCase {
    /// The engine's float permutation agrees with Tensor's byte-wise transpose for every axis order.
    func testAgreesWithTensorTransposeForEveryPermutation() throws {
        let shape = [2, 3, 4, 5]
        let values = (0..<120).map { Float($0) }
        let tensor = Tensor(shape: shape, floats: values)
        func permutations(_ items: [Int]) -> [[Int]] {
            items.count <= 1 ? [items] : items.flatMap { x in permutations(items.filter { $0 != x }).map { [x] + $0 } }
        }
        for perm in permutations([0, 1, 2, 3]) {
            var out = [Float](repeating: -1, count: values.count)
            values.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { Permutation.apply(src.baseAddress!, shape: shape, perm: perm, into: $0.baseAddress!, parallel: .allCores) }
            }
            XCTAssertEqual(out, try tensor.transposed(perm).floats(), "\(perm)")
        }
    }

    func testLargeTensorsTakeTheParallelPathAndAgree() throws {
        let shape = [4, 32, 32, 16]
        let values = (0..<shape.reduce(1, *)).map { Float($0 % 977) }
        let perm = Permutation.toChannelsFirst(rank: 4)
        var out = [Float](repeating: -1, count: values.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { Permutation.apply(src.baseAddress!, shape: shape, perm: perm, into: $0.baseAddress!, parallel: .allCores) }
        }
        XCTAssertEqual(out, try Tensor(shape: shape, floats: values).transposed(perm).floats())
    }

    func testLayoutPermutationsAreInverse() throws {
        for rank in 3...5 {
            let first = Permutation.toChannelsFirst(rank: rank), last = Permutation.toChannelsLast(rank: rank)
            XCTAssertEqual(first.map { last[$0] }, Array(0..<rank))
        }
    }
}
