@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvTestSupport
import XCTest

/// The channels-first pooling against the channels-last one (itself checked against TensorFlow
/// recordings by ``PoolKernelTests``), on windows, strides and paddings that put taps outside the
/// input on either side: both add each output's cells in the same order, so they agree exactly.
final class ChannelsFirstPoolKernelTests: XCTestCase {
    private struct Case {
        let input: [Int]          // NHWC (or NDHWC)
        let pool: [Int]
        let strides: [Int]
        let padding: Padding
    }

    private let cases = [
        Case(input: [2, 112, 112, 3], pool: [3, 3], strides: [2, 2], padding: .same),
        Case(input: [1, 9, 11, 4], pool: [3, 3], strides: [2, 2], padding: .explicit([Pair(1, 1), Pair(1, 1)])),
        Case(input: [1, 9, 11, 4], pool: [3, 2], strides: [1, 1], padding: .same),
        Case(input: [2, 10, 13, 3], pool: [4, 5], strides: [3, 3], padding: .explicit([Pair(2, 0), Pair(0, 4)])),
        Case(input: [1, 7, 7, 2], pool: [2, 2], strides: [2, 2], padding: .valid),
        Case(input: [1, 5, 6, 7, 3], pool: [2, 3, 3], strides: [2, 1, 2], padding: .same),
    ]

    func testMatchesTheChannelsLastPoolingExactly() throws {
        for c in cases {
            let rank = c.input.count - 2
            var state: UInt64 = 99
            let x = Tensor(shape: c.input, floats: (0..<c.input.reduce(1, *)).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int(state >> 40) % 2001 - 1000) / 100
            })
            let toFirst = [0, rank + 1] + Array(1...rank), toLast = [0] + Array(2...(rank + 1)) + [1]
            for kind in [Pool.Kind.max, .average] {
                func run(_ layout: DataLayout, _ input: Tensor) throws -> Tensor {
                    let pool = Pool(kind: kind, poolSize: c.pool, strides: c.strides, padding: c.padding, layout: layout)
                    let model = Model(name: "pool", format: .onnx, inputs: ["x"], outputs: ["y"],
                                      nodes: [Node(name: "pool", op: .pool(pool), inputs: ["x"], outputs: ["y"])], values: [:])
                    return try ModelRunner(model: model).run([input])[0]
                }
                let expected = try run(.channelsLast, x)
                let actual = try run(.channelsFirst, try x.transposed(toFirst)).transposed(toLast)
                XCTAssertEqual(actual.shape, expected.shape, "\(c) \(kind)")
                XCTAssertEqual(actual.floats(), expected.floats(), "\(c) \(kind)")
            }
        }
    }
}
