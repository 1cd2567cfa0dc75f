import XCTest
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvTestSupport

final class ConvertLayoutTests: XCTestCase {
    typealias M = FoldTestModels

    /// input(4x3x2) -> conv -> bn -> flatten -> dense: the classic Flatten trap.
    func testFlattenDenseAbsorbsThePermutationWithoutTransposes() throws {
        let model = M.convBNFlattenDense(seed: 11)
        let result = try ConvertLayout(target: .channelsFirst).apply(to: model)
        XCTAssertEqual(result.insertedTransposes, [])
        XCTAssertEqual(result.permutedDenseRows, ["dense"])
        let converted = result.model
        guard case .conv(let c) = converted.node(named: "conv")!.op, case .batchNorm(let bn) = converted.node(named: "bn")!.op else {
            return XCTFail("ops changed kind")
        }
        XCTAssertEqual(c.layout, .channelsFirst)
        XCTAssertEqual(bn.axis, 1)
        XCTAssertEqual(converted.values["input"]?.shape, [nil, 2, 4, 3])
        XCTAssertEqual(converted.values["input"]?.layout, .channelsFirst)
        // Row for (c, h, w) in NCHW order equals the NHWC row (h, w, c).
        let old = model.node(named: "dense")!.weight(.kernel)!.tensor.floats()
        let new = converted.node(named: "dense")!.weight(.kernel)!.tensor.floats()
        for ch in 0..<3 { for h in 0..<4 { for w in 0..<3 {
            let nchwRow = ch * 12 + h * 3 + w, nhwcRow = (h * 3 + w) * 3 + ch
            XCTAssertEqual(Array(new[nchwRow * 5..<nchwRow * 5 + 5]), Array(old[nhwcRow * 5..<nhwcRow * 5 + 5]))
        } } }
    }

    func testRoundTripRestoresIdenticalWeights() throws {
        let model = M.convBNFlattenDense(seed: 11)
        let there = try ConvertLayout(target: .channelsFirst).apply(to: model).model
        let back = try ConvertLayout(target: .channelsLast).apply(to: there).model
        for node in model.nodes {
            let returned = try XCTUnwrap(back.node(named: node.name))
            XCTAssertEqual(returned.weights.map(\.tensor), node.weights.map(\.tensor), node.name)
        }
        XCTAssertEqual(back.values["input"]?.shape, [nil, 4, 3, 2])
        guard case .batchNorm(let bn) = back.node(named: "bn")!.op else { return XCTFail() }
        XCTAssertEqual(bn.axis, 3)
    }

    func testKeepIOLayoutInsertsOneTransposePerSpatialBoundary() throws {
        var model = M.convBNFlattenDense(seed: 11)
        model.outputs = ["bn"]
        model.nodes.removeLast(2)
        let result = try ConvertLayout(target: .channelsFirst, keepIOLayout: true).apply(to: model)
        XCTAssertEqual(result.insertedTransposes.count, 2)
        XCTAssertEqual(result.model.values["input"]?.shape, [nil, 4, 3, 2])
        let first = try XCTUnwrap(result.model.node(named: result.insertedTransposes[0]))
        XCTAssertEqual(first.op, .permute(permutation: [3, 1, 2]))
        let last = try XCTUnwrap(result.model.node(named: result.insertedTransposes[1]))
        XCTAssertEqual(last.op, .permute(permutation: [2, 3, 1]))
        XCTAssertEqual(result.model.outputs, [last.outputs[0]])
        XCTAssertNoThrow(try result.model.validate())
    }

    func testConcatAxisAndPermuteDims() {
        XCTAssertEqual(LayoutPermutation.mapAxis(-1, rank: 4, from: .channelsLast, to: .channelsFirst), 1)
        XCTAssertEqual(LayoutPermutation.mapAxis(2, rank: 4, from: .channelsLast, to: .channelsFirst), 3)
        XCTAssertEqual(LayoutPermutation.mapAxis(1, rank: 5, from: .channelsFirst, to: .channelsLast), 4)
        XCTAssertEqual(LayoutPermutation.permuteDims(rank: 3, from: .channelsLast, to: .channelsFirst), [2, 1])
        XCTAssertEqual(LayoutPermutation.mapShape([8, 5, 6, 7], from: .channelsLast, to: .channelsFirst), [8, 7, 5, 6])
    }
}
