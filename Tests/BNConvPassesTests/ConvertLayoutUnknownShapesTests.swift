import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvTestSupport

/// Layout conversion around op-library nodes whose output shapes shape inference does not know:
/// the pass moves nothing it cannot name, and a layout op reading such a value reads it as the
/// original did (in the layout its own attributes name).
final class ConvertLayoutUnknownShapesTests: XCTestCase {
    typealias M = FoldTestModels

    /// input (N, 12) -> Unsqueeze(-1) (an op-library node: its output shape is not inferred) ->
    /// Conv1D(4, 3, same) -> BN: the graph in small (a Conv1D reading an expanded signal).
    private func expandConvBN(expandedShape: [Int?]? = nil) -> Model {
        var rng = M.Random(state: 23)
        let axes = Weight(role: TensorOp.operandRole(1), tensor: Tensor(shape: [1], doubles: [-1], dtype: .int64), layout: .vector,
                          storageKey: "axes")
        let nodes = [
            Node(name: "input", op: .input, inputs: [], outputs: ["input"]),
            Node(name: "expand", op: .tensor(TensorOp(type: "Unsqueeze", opset: 13, arguments: [.value(0), .weight(TensorOp.operandRole(1))])),
                 inputs: ["input"], outputs: ["expand"], weights: [axes]),
            Node(name: "conv", op: .conv(Convolution(rank: 1, filters: 4, kernelSize: [3], padding: .same)), inputs: ["expand"], outputs: ["conv"],
                 weights: [M.weight(.kernel, [3, 1, 4], .hwio, &rng), M.weight(.bias, [4], .vector, &rng)]),
            Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: 2e-3, axis: -1)), inputs: ["conv"], outputs: ["bn"], weights: M.bnWeights(4, &rng)),
        ]
        var values: [String: ValueInfo] = ["input": ValueInfo(name: "input", shape: [nil, 12])]
        if let expandedShape { values["expand"] = ValueInfo(name: "expand", shape: expandedShape) }
        return Model(name: "t", format: .graphDef, inputs: ["input"], outputs: ["bn"], nodes: nodes, values: values)
    }

    /// The converted model, run on the engine, against the original (boundary transposes applied).
    private func assertSameAnswers(_ model: Model, _ converted: Model, input: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        let boundary = LayoutBoundary(source: model, converted: converted)
        let expected = try XCTUnwrap(try ModelRunner(model: model).run([input]).first)
        let fed = try boundary.inputs[0].map { try input.transposed($0) } ?? input
        let output = try XCTUnwrap(try ModelRunner(model: converted).run([fed]).first)
        let back = try boundary.outputs[0].map { try output.transposed(LayoutBoundary.inverse($0)) } ?? output
        XCTAssertEqual(back.shape, expected.shape, file: file, line: line)
        XCTAssertLessThanOrEqual(relativeError(back.floats(), expected.floats()), 1e-5, file: file, line: line)
    }

    func testAConvReadingAValueOfUnknownShapeGetsItTransposedFromItsOwnLayout() throws {
        let model = expandConvBN()
        XCTAssertNil(ShapeInference.shapes(of: model)["expand"], "the test needs a value whose shape is not inferred")
        let result = try ConvertLayout(target: .channelsFirst).apply(to: model)
        let conv = try XCTUnwrap(result.model.node(named: "conv"))
        guard case .conv(let c) = conv.op else { return XCTFail("\(conv.op)") }
        XCTAssertEqual(c.layout, .channelsFirst)
        let feed = try XCTUnwrap(result.model.node(named: conv.inputs[0]))
        XCTAssertEqual(feed.op, .permute(permutation: [2, 1]), "(N, 12, 1) NWC -> (N, 1, 12) NCW")
        XCTAssertEqual(feed.inputs, ["expand"])
        XCTAssertEqual(result.insertedTransposes, [feed.name])
        guard case .batchNorm(let bn) = result.model.node(named: "bn")?.op else { return XCTFail("no BN") }
        XCTAssertEqual(bn.axis, 1)
        XCTAssertEqual(LayoutBoundary(source: model, converted: result.model).outputs, [[0, 2, 1]])
        var rng = M.Random(state: 5)
        try assertSameAnswers(model, result.model, input: Tensor(shape: [2, 12], doubles: rng.uniform(24, -1, 1), dtype: .float32))
    }

    func testAConvReadingAValueOfAnotherRankIsRefusedNamingIt() throws {
        let model = expandConvBN(expandedShape: [nil, 12, 1, 1])
        XCTAssertThrowsError(try ConvertLayout(target: .channelsFirst).apply(to: model)) { error in
            guard let refusal = error as? LayoutConversionError else { return XCTFail("\(error)") }
            XCTAssertEqual(refusal.node, "conv")
            XCTAssertTrue(refusal.problem.contains("rank-3") && refusal.problem.contains("rank 4"), refusal.problem)
            XCTAssertTrue("\(refusal)".contains("the layout conversion is refused"), "\(refusal)")
        }
    }

    /// input -> conv a (moved to NCHW); input -> Transpose(identity perm) (reads axes, shape not
    /// inferred); Add(a, t) -> conv b. The Add cannot move `t` (its rank is not known), so it reads
    /// a transposed back; conv b reads the Add's output transposed from its own layout.
    func testAMergeWithAValueOfUnknownRankReadsTheOriginalTensors() throws {
        var rng = M.Random(state: 31)
        let nodes = [
            Node(name: "input", op: .input, inputs: [], outputs: ["input"]),
            Node(name: "a", op: .conv(Convolution(rank: 2, filters: 2, kernelSize: [3, 3], padding: .same)), inputs: ["input"], outputs: ["a"],
                 weights: [M.weight(.kernel, [3, 3, 2, 2], .hwio, &rng), M.weight(.bias, [2], .vector, &rng)]),
            Node(name: "t", op: .tensor(TensorOp(type: "Transpose", opset: 13, attributes: ["perm": .ints([0, 1, 2, 3])], arguments: [.value(0)])),
                 inputs: ["input"], outputs: ["t"]),
            Node(name: "add", op: .elementwise(.add), inputs: ["a", "t"], outputs: ["add"]),
            Node(name: "b", op: .conv(Convolution(rank: 2, filters: 3, kernelSize: [1, 1])), inputs: ["add"], outputs: ["b"],
                 weights: [M.weight(.kernel, [1, 1, 2, 3], .hwio, &rng), M.weight(.bias, [3], .vector, &rng)]),
        ]
        let model = Model(name: "t", format: .graphDef, inputs: ["input"], outputs: ["b"], nodes: nodes,
                          values: ["input": ValueInfo(name: "input", shape: [nil, 5, 4, 2], layout: .channelsLast)])
        let result = try ConvertLayout(target: .channelsFirst).apply(to: model)
        let add = try XCTUnwrap(result.model.node(named: "add"))
        XCTAssertEqual(result.model.node(named: add.inputs[0])?.op, .permute(permutation: [2, 3, 1]), "a back to NHWC")
        let t = try XCTUnwrap(result.model.node(named: "t"))
        XCTAssertEqual(result.model.node(named: t.inputs[0])?.op, .permute(permutation: [2, 3, 1]), "the input back to NHWC for the transpose")
        XCTAssertEqual(add.inputs[1], "t")
        let b = try XCTUnwrap(result.model.node(named: "b"))
        XCTAssertEqual(result.model.node(named: b.inputs[0])?.op, .permute(permutation: [3, 1, 2]))
        try assertSameAnswers(model, result.model, input: Tensor(shape: [2, 5, 4, 2], doubles: rng.uniform(80, -1, 1), dtype: .float32))
    }
}
