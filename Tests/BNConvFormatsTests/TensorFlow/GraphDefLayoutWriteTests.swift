@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// TensorFlow GraphDefs converted to channels-first by ``ConvertLayout``, written by
/// ``GraphDefWriter`` and read back must answer what TensorFlow recorded for the original
/// (input and output transposed).
final class GraphDefLayoutWriteTests: XCTestCase {
    /// Graphs computing in half precision inside TensorFlow (see ModelRunnerGraphDefFixturesTests).
    private let halfPrecisionTolerance: [String: Double] = ["conv_bn_float16": 5e-3, "conv_bn_mixed": 5e-3]
    /// Fixtures whose layout change a GraphDef cannot express, with the reason the writer gives
    /// (BatchNormWithGlobalNormalization has no data_format and TensorFlow's kernel takes 4-D
    /// channels-last input only).
    private let refused: [String: String] = [
        "global_normalization": "per-channel vectors on the last axis",
    ]

    /// The cases with 3-D or 4-D activations, channels-last as recorded (the `nchw` fixture is already channels-first).
    private func cases() throws -> [String] {
        try TensorFlowFixtures.cases().filter { name in
            guard name != "nchw", let t = try? NumPyFile.read(FixturePaths.url("tensorflow/\(name)/input.npy").path) else { return false }
            return t.shape.count >= 3
        }
    }

    private func check(keepIOLayout: Bool) throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var checked = 0, worst = 0.0
        for name in try cases() {
            let folder = FixturePaths.url("tensorflow/\(name)")
            let input = try NumPyFile.read(folder.appendingPathComponent("input.npy").path)
            let expected = try NumPyFile.read(folder.appendingPathComponent("output.npy").path)
            let model = try Checkpoint.read(TensorFlowFixtures.graph(name))
            let converted = try ConvertLayout(target: .channelsFirst, keepIOLayout: keepIOLayout).apply(to: model).model
            let out = dir.appendingPathComponent("\(name).pb").path
            let label = "\(name) keep-io \(keepIOLayout)"
            guard let reread = try GraphDefLayoutChecks.writeOrRefuse(converted, to: out, refusal: refused[name], label) else { continue }
            let boundary = LayoutBoundary(source: model, converted: converted)
            XCTAssertEqual(LayoutBoundary(source: model, converted: reread), boundary, "\(label): boundary read back")
            XCTAssertEqual(boundary.inputs, [keepIOLayout ? nil : [0, input.shape.count - 1] + Array(1..<(input.shape.count - 1))], name)
            let back = try GraphDefLayoutChecks.run(reread, boundary, input: input, label)
            let tolerance = halfPrecisionTolerance[name] ?? 1e-5
            assertClose(back, expected, tolerance: tolerance, label)
            if back.shape == expected.shape, halfPrecisionTolerance[name] == nil {
                worst = max(worst, relativeError(back.floats(), expected.floats()))
            }
            checked += 1
        }
        print("GraphDef layout write (keep-io \(keepIOLayout)): \(checked) graphs, worst error \(worst) x max|ref|")
        XCTAssertGreaterThan(checked, 15)
    }

    func testEveryFourDimensionalGraphWrittenChannelsFirstMatchesTensorFlow() throws {
        try check(keepIOLayout: false)
    }

    func testEveryFourDimensionalGraphWithKeptIOLayoutMatchesTensorFlow() throws {
        try check(keepIOLayout: true)
    }

    func testRoundTripThroughChannelsFirstGivesIdenticalWeights() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for name in try cases() where refused[name] == nil {
            try GraphDefLayoutChecks.assertRoundTripKeepsWeights(TensorFlowFixtures.graph(name), through: .channelsFirst,
                                                                 back: .channelsLast, in: dir, name)
        }
    }

    func testConv1DSandwichMovesItsExpandAndSqueezeAxes() throws {
        let model = try Checkpoint.read(TensorFlowFixtures.graph("conv1d_bn"))
        let before = try ProtobufGraphDef(bytes: try Data(contentsOf: URL(fileURLWithPath: TensorFlowFixtures.graph("conv1d_bn"))).map { $0 },
                                          file: "x.pb").nodeDefs()
        let data = try XCTUnwrap(before.first { $0.op == "ExpandDims" && $0.inputs[0].hasPrefix("input") })
        let axis = try GraphDefLayoutChecks.constant(data.inputs[1], in: before).values
        XCTAssertTrue(axis == [1] || axis == [-3], "TensorFlow writes an NWC Conv1D with the height at 1 (or -3): \(axis)")
        let moved: Int64 = axis == [1] ? 2 : -2
        let bytes = try GraphDefWriter.serialize(try ConvertLayout(target: .channelsFirst).apply(to: model).model, file: "x.pb")
        let defs = try ProtobufGraphDef(bytes: bytes, file: "x.pb").nodeDefs()
        let expand = try XCTUnwrap(defs.first { $0.name == data.name })
        XCTAssertEqual(try GraphDefLayoutChecks.constant(expand.inputs[1], in: defs).values, [moved])
        let squeeze = try XCTUnwrap(defs.first { $0.op == "Squeeze" })
        guard case .list(let dims)? = squeeze.attribute("squeeze_dims") else { return XCTFail("no squeeze_dims") }
        XCTAssertEqual(dims.ints, [moved])
        let conv = try XCTUnwrap(defs.first { $0.op == "Conv2D" })
        XCTAssertEqual(conv.attribute("data_format")?.string, "NCHW")
        XCTAssertEqual(defs.first { $0.op == "BiasAdd" }?.attribute("data_format")?.string, "NCHW")
        // Read back: still one Conv1D node, channels-first.
        let reread = try GraphDefReader.read(bytes: bytes, file: "x.pb")
        let convs = reread.nodes.filter { if case .conv = $0.op { return true } else { return false } }
        XCTAssertEqual(convs.count, 1)
        guard case .conv(let c)? = convs.first?.op else { return XCTFail("no conv") }
        XCTAssertEqual(c.rank, 1)
        XCTAssertEqual(c.layout, .channelsFirst)
    }

    func testDecomposedBatchNormVectorsAreStoredWithABroadcastShape() throws {
        for (name, rank) in [("keras3", 4), ("conv1d_bn", 3)] {
            let model = try Checkpoint.read(TensorFlowFixtures.graph(name))
            let spatialBN = try XCTUnwrap(model.nodes.first { node in
                guard case .batchNorm = node.op, let x = node.inputs.first else { return false }
                return ShapeInference.shapes(of: model)[x]?.count == rank
            }, name)
            let bytes = try GraphDefWriter.serialize(try ConvertLayout(target: .channelsFirst).apply(to: model).model, file: "x.pb")
            let defs = try ProtobufGraphDef(bytes: bytes, file: "x.pb").nodeDefs()
            for weight in spatialBN.weights {
                let def = try XCTUnwrap(defs.first { $0.name == weight.storageKey }, "\(name): \(weight.storageKey)")
                guard case .tensor(let proto)? = def.attribute("value") else { return XCTFail("\(name): no tensor") }
                XCTAssertEqual(proto.shape?.map { Int($0) }, [weight.tensor.count] + Array(repeating: 1, count: rank - 2), "\(name): \(weight.role)")
            }
            let reread = try GraphDefReader.read(bytes: bytes, file: "x.pb")
            let bn = try XCTUnwrap(reread.node(named: spatialBN.name), name)
            guard case .batchNorm(let op) = bn.op else { return XCTFail("\(name): \(bn.op)") }
            XCTAssertEqual(Op.resolveAxis(op.axis, rank: rank), 1, name)
            XCTAssertEqual(bn.weights.map(\.tensor), spatialBN.weights.map(\.tensor), name)
        }
    }

    func testDecomposedBatchNormWithASharedVectorIsRefused() throws {
        var model = try Checkpoint.read(TensorFlowFixtures.graph("conv1d_bn"))
        let index = try XCTUnwrap(model.nodes.firstIndex { if case .batchNorm = $0.op { return true } else { return false } })
        model.nodes[index].weights[0].isShared = true   // as if another op read the same Const
        let converted = try ConvertLayout(target: .channelsFirst).apply(to: model).model
        XCTAssertThrowsError(try GraphDefWriter.serialize(converted, file: "x.pb")) { error in
            XCTAssertTrue("\(error)".contains("is shared with other ops"), "\(error)")
        }
    }

    func testInsertedTransposesAreWrittenAsTransposeAndConstPerm() throws {
        let model = try Checkpoint.read(TensorFlowFixtures.graph("conv_bias_bn"))
        let result = try ConvertLayout(target: .channelsFirst, keepIOLayout: true).apply(to: model)
        XCTAssertEqual(result.insertedTransposes.count, 2)
        let bytes = try GraphDefWriter.serialize(result.model, file: "x.pb")
        let defs = try ProtobufGraphDef(bytes: bytes, file: "x.pb").nodeDefs()
        let transposes = defs.filter { $0.op == "Transpose" }
        XCTAssertEqual(transposes.count, 2)
        XCTAssertEqual(Set(defs.map(\.name)).count, defs.count, "NodeDef names must be unique")
        let perms = try transposes.map { t -> [Int64] in
            let perm = try XCTUnwrap(defs.first { $0.name == t.inputs[1] })
            guard case .tensor(let proto)? = perm.attribute("value") else { throw XCTSkip("no perm tensor") }
            XCTAssertEqual(proto.dtype, TensorFlowDataType.value(.int32))
            return try GraphDefTensorCodec.decode(proto, file: "x.pb", place: perm.name, limits: ReadLimits()).integers()
        }
        XCTAssertEqual(Set(perms), [[0, 3, 1, 2], [0, 2, 3, 1]])
        let conv = try XCTUnwrap(defs.first { $0.op == "Conv2D" })
        XCTAssertEqual(conv.attribute("data_format")?.string, "NCHW")
        let placeholder = try XCTUnwrap(defs.first { $0.op == "Placeholder" })
        guard case .shape(let dims?)? = placeholder.attribute("shape") else { return XCTFail("no shape") }
        XCTAssertEqual(dims.last, 3, "--keep-io-layout keeps the placeholder channels-last")
    }
}
