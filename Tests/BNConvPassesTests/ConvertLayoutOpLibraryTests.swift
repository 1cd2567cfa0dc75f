import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvTestSupport

/// ``ConvertLayout`` around op-library nodes (and Permutes) that read axes by position, between
/// convolutions: such a node runs on its input in the layout it was written for (a transpose back
/// to the original before it when its input was converted), its output is the original's, and a
/// convolution after it reads that output through a transpose from the convolution's own layout.
/// The case came from basic-pitch's frozen graph (a 1-D `Pad` read as channels-first, then
/// `Transpose`/`ExpandDims` to NHWC, then `Conv2D`): a pass that labelled such a node's output with
/// its input's layout switched the later conv to channels-first with no transpose before it.
///
/// Every case is converted to the other layout and run on the engine against the original, fed
/// and compared through the boundary the conversion declares.
final class ConvertLayoutOpLibraryTests: XCTestCase {
    typealias M = FoldTestModels

    private static let inputRole = TensorOp.operandRole(1)

    /// An op-library node reading `input` and, as its second operand, the int64 vector `operand`.
    private func tensorNode(_ name: String, _ type: String, opset: Int, _ input: String, operand: [Double]? = nil,
                            attributes: [String: OpAttribute] = [:]) -> Node {
        var arguments: [TensorOpArgument] = [.value(0)]
        var weights: [Weight] = []
        if let operand {
            arguments.append(.weight(Self.inputRole))
            weights.append(Weight(role: Self.inputRole, tensor: Tensor(shape: [operand.count], doubles: operand, dtype: .int64),
                                  layout: .vector, storageKey: "\(name)/operand"))
        }
        return Node(name: name, op: .tensor(TensorOp(type: type, opset: opset, attributes: attributes, arguments: arguments)),
                    inputs: [input], outputs: [name], weights: weights)
    }

    /// A convolution of `rank` with `in` -> `out` channels, a kernel of `size` and a bias.
    private func conv(_ name: String, _ input: String, rank: Int, size: [Int], in inChannels: Int, out: Int,
                      layout: DataLayout, _ rng: inout M.Random) -> Node {
        Node(name: name, op: .conv(Convolution(rank: rank, filters: out, kernelSize: size, padding: .same, layout: layout)),
             inputs: [input], outputs: [name],
             weights: [M.weight(.kernel, size + [inChannels, out], .hwio, &rng), M.weight(.bias, [out], .vector, &rng)])
    }

    private func model(_ nodes: [Node], input: [Int?], layout: DataLayout) -> Model {
        Model(name: "m", format: .graphDef, inputs: ["x"], outputs: [nodes.last!.outputs[0]],
              nodes: [Node(name: "x", op: .input, inputs: [], outputs: ["x"])] + nodes,
              values: ["x": ValueInfo(name: "x", shape: input, layout: layout)])
    }

    /// Converts `model` to `target` and runs both on `input` (transposed as the boundary says):
    /// the answers agree within 1e-6 x max|ref|. Returns the conversion.
    @discardableResult
    private func assertConvertsAlike(_ model: Model, to target: DataLayout, input shape: [Int], keepIOLayout: Bool = false,
                                     file: StaticString = #filePath, line: UInt = #line) throws -> ConvertLayout.Result {
        let converted = try ConvertLayout(target: target, keepIOLayout: keepIOLayout).apply(to: model)
        var rng = M.Random(state: 41)
        let x = Tensor(shape: shape, doubles: rng.uniform(shape.reduce(1, *), -1, 1), dtype: .float32)
        let expected = try ModelRunner(model: model).run([x])[0]
        let boundary = LayoutBoundary(source: model, converted: converted.model)
        let fed = try boundary.inputs[0].map { try x.transposed($0) } ?? x
        var got = try ModelRunner(model: converted.model).run([fed])[0]
        if let p = boundary.outputs[0] { got = try got.transposed(LayoutBoundary.inverse(p)) }
        XCTAssertEqual(got.shape, expected.shape, file: file, line: line)
        XCTAssertLessThanOrEqual(relativeError(got.floats(), expected.floats()), 1e-6,
                                 "the converted model computes something else", file: file, line: line)
        return converted
    }

    /// What the node named `name` reads (input `k`) in `model`: the node writing it.
    private func feeder(of name: String, in model: Model, input k: Int = 0) throws -> Node {
        let node = try XCTUnwrap(model.node(named: name), name)
        let v = node.inputs[k]
        return try XCTUnwrap(model.nodes.first { $0.outputs.contains(v) }, "the writer of \(v)")
    }

    private func convLayout(_ name: String, in model: Model) -> DataLayout? {
        if case .conv(let c)? = model.node(named: name)?.op { return c.layout }
        return nil
    }

    /// Basic-pitch's shape in small: (N, C = 1, W = 8) padded along W as channels-first, then an
    /// op-library Unsqueeze to (N, 1, 10, 1), read by a channels-last conv as NHWC (H = 1, W = 10,
    /// C = 1). Converted to channels-first, the conv reads the Unsqueeze's output through a
    /// transpose NHWC -> NCHW.
    func testConvAfterAnAxisReadingOpOfAChannelsFirstValueComputesAlike() throws {
        let kernel = Tensor(shape: [2, 3, 1, 2], floats: [0.5, -1, 0.25, 2, 1, -0.5, 0.75, 1.5, -2, 0.1, 0.3, -0.7])
        let role = WeightRole(rawValue: "input1")
        let model = Model(name: "m", format: .graphDef, inputs: ["x"], outputs: ["y"], nodes: [
            Node(name: "x", op: .input, inputs: [], outputs: ["x"]),
            Node(name: "pad", op: .pad(padding: [Pair(1, 1)], layout: .channelsFirst), inputs: ["x"], outputs: ["p"]),
            Node(name: "expand", op: .tensor(TensorOp(type: "Unsqueeze", opset: 13, arguments: [.value(0), .weight(role)])),
                 inputs: ["p"], outputs: ["e"], weights: [Weight(role: role, tensor: Tensor(shape: [1], doubles: [-1], dtype: .int64), storageKey: "axes")]),
            Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 2, kernelSize: [2, 3], padding: .same, useBias: false, layout: .channelsLast)),
                 inputs: ["e"], outputs: ["y"], weights: [Weight(role: .kernel, tensor: kernel, layout: .hwio, storageKey: "k")]),
        ], values: ["x": ValueInfo(name: "x", shape: [nil, 1, 8], layout: .channelsFirst)])
        let converted = try assertConvertsAlike(model, to: .channelsFirst, input: [2, 1, 8])
        XCTAssertEqual(convLayout("conv", in: converted.model), .channelsFirst)
        let feed = try feeder(of: "conv", in: converted.model)
        XCTAssertEqual(feed.op, .permute(permutation: [3, 1, 2]), "the Unsqueeze's NHWC output transposed to NCHW")
        XCTAssertEqual(feed.inputs, ["e"])
        XCTAssertEqual(try feeder(of: "expand", in: converted.model).name, "pad", "the Unsqueeze reads the pad's output as written")
        XCTAssertEqual(converted.model.values["e"]?.layout, model.values["e"]?.layout, "the Unsqueeze's output keeps the original's record")
    }

    /// NWC conv -> op-library Unsqueeze(axis 1) -> (N, 1, W, C) -> NHWC conv, to channels-first:
    /// the Unsqueeze reads its input transposed back to NWC (the conv before it now writes NCW),
    /// and the conv after reads its output through NHWC -> NCHW.
    func testUnsqueezeBetweenConvs() throws {
        var rng = M.Random(state: 1)
        let model = model([
            conv("c1", "x", rank: 1, size: [3], in: 3, out: 2, layout: .channelsLast, &rng),
            tensorNode("expand", "Unsqueeze", opset: 13, "c1", operand: [1]),
            conv("c2", "expand", rank: 2, size: [1, 3], in: 2, out: 4, layout: .channelsLast, &rng),
        ], input: [nil, 8, 3], layout: .channelsLast)
        let converted = try assertConvertsAlike(model, to: .channelsFirst, input: [2, 8, 3])
        XCTAssertEqual(try feeder(of: "expand", in: converted.model).op, .permute(permutation: [2, 1]), "NCW back to NWC")
        XCTAssertEqual(try feeder(of: "c2", in: converted.model).op, .permute(permutation: [3, 1, 2]))
        XCTAssertEqual(convLayout("c2", in: converted.model), .channelsFirst)
    }

    /// NHWC conv on (N, 1, W, C) -> op-library Squeeze (axes attribute [1], opset 11) -> NWC conv.
    func testSqueezeBetweenConvs() throws {
        var rng = M.Random(state: 2)
        let model = model([
            conv("c1", "x", rank: 2, size: [1, 3], in: 3, out: 2, layout: .channelsLast, &rng),
            tensorNode("squeeze", "Squeeze", opset: 11, "c1", attributes: ["axes": .ints([1])]),
            conv("c2", "squeeze", rank: 1, size: [3], in: 2, out: 4, layout: .channelsLast, &rng),
        ], input: [nil, 1, 8, 3], layout: .channelsLast)
        let converted = try assertConvertsAlike(model, to: .channelsFirst, input: [2, 1, 8, 3])
        XCTAssertEqual(try feeder(of: "squeeze", in: converted.model).op, .permute(permutation: [2, 3, 1]), "NCHW back to NHWC")
        XCTAssertEqual(try feeder(of: "c2", in: converted.model).op, .permute(permutation: [2, 1]))
    }

    /// NHWC conv (N, 4, 4, 2) -> op-library Reshape to (N, 2, 8, 2) (memory order) -> NHWC conv.
    func testReshapeBetweenConvs() throws {
        var rng = M.Random(state: 3)
        let model = model([
            conv("c1", "x", rank: 2, size: [3, 3], in: 3, out: 2, layout: .channelsLast, &rng),
            tensorNode("reshape", "Reshape", opset: 14, "c1", operand: [-1, 2, 8, 2]),
            conv("c2", "reshape", rank: 2, size: [2, 3], in: 2, out: 3, layout: .channelsLast, &rng),
        ], input: [nil, 4, 4, 3], layout: .channelsLast)
        let converted = try assertConvertsAlike(model, to: .channelsFirst, input: [2, 4, 4, 3])
        XCTAssertEqual(try feeder(of: "reshape", in: converted.model).op, .permute(permutation: [2, 3, 1]))
        XCTAssertEqual(try feeder(of: "c2", in: converted.model).op, .permute(permutation: [3, 1, 2]))
    }

    /// NHWC conv on (N, 4, 6, C) -> op-library Transpose swapping height and width -> NHWC conv.
    func testTransposeBetweenConvs() throws {
        var rng = M.Random(state: 4)
        let model = model([
            conv("c1", "x", rank: 2, size: [3, 3], in: 3, out: 2, layout: .channelsLast, &rng),
            tensorNode("transpose", "Transpose", opset: 13, "c1", attributes: ["perm": .ints([0, 2, 1, 3])]),
            conv("c2", "transpose", rank: 2, size: [3, 2], in: 2, out: 3, layout: .channelsLast, &rng),
        ], input: [nil, 4, 6, 3], layout: .channelsLast)
        try assertConvertsAlike(model, to: .channelsFirst, input: [2, 4, 6, 3])
        try assertConvertsAlike(model, to: .channelsFirst, input: [2, 4, 6, 3], keepIOLayout: true)
    }

    /// NHWC conv -> op-library Transpose NHWC -> NCHW -> NCHW conv: converted to channels-first,
    /// the Transpose reads its input transposed back to NHWC and the NCHW conv reads it as written.
    func testTransposeToChannelsFirstBeforeAChannelsFirstConv() throws {
        var rng = M.Random(state: 5)
        let model = model([
            conv("c1", "x", rank: 2, size: [3, 3], in: 3, out: 2, layout: .channelsLast, &rng),
            tensorNode("transpose", "Transpose", opset: 13, "c1", attributes: ["perm": .ints([0, 3, 1, 2])]),
            conv("c2", "transpose", rank: 2, size: [3, 3], in: 2, out: 3, layout: .channelsFirst, &rng),
        ], input: [nil, 5, 6, 3], layout: .channelsLast)
        let converted = try assertConvertsAlike(model, to: .channelsFirst, input: [2, 5, 6, 3])
        XCTAssertEqual(try feeder(of: "c2", in: converted.model).name, "transpose", "the NCHW conv reads the Transpose's output as written")
    }

    /// NHWC conv -> op-library Pad (opset 2, pads attribute) of height and width, unevenly -> NHWC conv.
    func testPadBetweenConvs() throws {
        var rng = M.Random(state: 6)
        let model = model([
            conv("c1", "x", rank: 2, size: [3, 3], in: 3, out: 2, layout: .channelsLast, &rng),
            tensorNode("pad", "Pad", opset: 2, "c1", attributes: ["mode": .string("constant"), "pads": .ints([0, 1, 0, 0, 0, 2, 1, 0])]),
            conv("c2", "pad", rank: 2, size: [3, 3], in: 2, out: 3, layout: .channelsLast, &rng),
        ], input: [nil, 4, 5, 3], layout: .channelsLast)
        let converted = try assertConvertsAlike(model, to: .channelsFirst, input: [2, 4, 5, 3])
        XCTAssertEqual(try feeder(of: "pad", in: converted.model).op, .permute(permutation: [2, 3, 1]))
        XCTAssertEqual(try feeder(of: "c2", in: converted.model).op, .permute(permutation: [3, 1, 2]))
    }

    /// NHWC conv -> Permute swapping height and width (a Keras Permute((2, 1, 3))) -> NHWC conv.
    func testPermuteBetweenConvs() throws {
        var rng = M.Random(state: 7)
        let model = model([
            conv("c1", "x", rank: 2, size: [3, 3], in: 3, out: 2, layout: .channelsLast, &rng),
            Node(name: "permute", op: .permute(permutation: [2, 1, 3]), inputs: ["c1"], outputs: ["permute"]),
            conv("c2", "permute", rank: 2, size: [3, 2], in: 2, out: 3, layout: .channelsLast, &rng),
        ], input: [nil, 4, 6, 3], layout: .channelsLast)
        let converted = try assertConvertsAlike(model, to: .channelsFirst, input: [2, 4, 6, 3])
        XCTAssertEqual(try feeder(of: "permute", in: converted.model).op, .permute(permutation: [2, 3, 1]))
        XCTAssertEqual(try feeder(of: "c2", in: converted.model).op, .permute(permutation: [3, 1, 2]))
    }

    /// The other way: NCHW conv -> op-library Transpose swapping height and width -> Unsqueeze ->
    /// Squeeze -> NCHW conv, converted to channels-last.
    func testChannelsFirstModelToChannelsLast() throws {
        var rng = M.Random(state: 8)
        let model = model([
            conv("c1", "x", rank: 2, size: [3, 3], in: 3, out: 2, layout: .channelsFirst, &rng),
            tensorNode("transpose", "Transpose", opset: 13, "c1", attributes: ["perm": .ints([0, 1, 3, 2])]),
            tensorNode("expand", "Unsqueeze", opset: 13, "transpose", operand: [-1]),
            tensorNode("squeeze", "Squeeze", opset: 13, "expand", operand: [4]),
            conv("c2", "squeeze", rank: 2, size: [2, 3], in: 2, out: 3, layout: .channelsFirst, &rng),
        ], input: [nil, 3, 4, 6], layout: .channelsFirst)
        let converted = try assertConvertsAlike(model, to: .channelsLast, input: [2, 3, 4, 6])
        XCTAssertEqual(try feeder(of: "transpose", in: converted.model).op, .permute(permutation: [3, 1, 2]), "NHWC back to NCHW")
        XCTAssertEqual(try feeder(of: "c2", in: converted.model).op, .permute(permutation: [2, 3, 1]))
        XCTAssertEqual(convLayout("c2", in: converted.model), .channelsLast)
    }
}
