@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The GraphDefs of Tests/Fixtures/tensorflow_layout (ExpandDims / Squeeze / Reshape / Transpose /
/// Pad / MirrorPad / grouped Conv2D / Mean / ConcatV2 / StridedSlice around conv + BN layers,
/// written by TensorFlow) converted to the other layout, written, read back and run on the engine:
/// each must answer what TensorFlow recorded for the original (input and output transposed by the
/// boundary), or be refused with its reason and leave no file.
final class GraphDefLayoutFixtureTests: XCTestCase {
    /// Fixtures whose conversion a GraphDef cannot express, with the reason the writer gives.
    private let refused: [String: String] = [
        "channel_softmax": "TensorFlow's Softmax works on the last axis only",
    ]

    private struct Case {
        let name: String
        let folder: URL
        let source: DataLayout
        var target: DataLayout { source == .channelsLast ? .channelsFirst : .channelsLast }
    }

    private func cases() throws -> [Case] {
        let root = FixturePaths.url("tensorflow_layout")
        return try FileManager.default.contentsOfDirectory(atPath: root.path).sorted().compactMap { name in
            let folder = root.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("facts.json").path),
                  let facts = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let layout = facts["layout"] as? String else { return nil }
            return Case(name: name, folder: folder, source: layout == "nchw" ? .channelsFirst : .channelsLast)
        }
    }

    private func tensor(_ c: Case, _ file: String) throws -> Tensor {
        try NumPyFile.read(c.folder.appendingPathComponent(file).path)
    }

    /// Every case runs on the engine as read (grouped convolutions included) like TensorFlow.
    func testEveryGraphRunsLikeTensorFlowAsRead() throws {
        let all = try cases()
        XCTAssertGreaterThanOrEqual(all.count, 14)
        for c in all {
            let model = try Checkpoint.read(c.folder.appendingPathComponent("graph.pb").path)
            let output = try ModelRunner(model: model).run([try tensor(c, "input.npy")])
            assertClose(try XCTUnwrap(output.first, c.name), try tensor(c, "output.npy"), tolerance: 1e-5, c.name)
        }
    }

    private func check(keepIOLayout: Bool) throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var checked = 0, worst = 0.0
        for c in try cases() {
            let label = "\(c.name) keep-io \(keepIOLayout)"
            let model = try Checkpoint.read(c.folder.appendingPathComponent("graph.pb").path)
            let converted = try ConvertLayout(target: c.target, keepIOLayout: keepIOLayout).apply(to: model).model
            let out = dir.appendingPathComponent("\(c.name).pb").path
            guard let reread = try GraphDefLayoutChecks.writeOrRefuse(converted, to: out, refusal: refused[c.name], label) else { continue }
            // The file holds what the pass made, node for node, with the converted model's interface.
            let sameInterface = LayoutBoundary(inputs: [nil], outputs: converted.outputs.map { _ in nil })
            XCTAssertNoThrow(try LayoutConversionCheck(original: converted, converted: reread, boundary: sameInterface).verify(), label)
            let boundary = LayoutBoundary(source: model, converted: converted)
            XCTAssertEqual(LayoutBoundary(source: model, converted: reread), boundary, "\(label): boundary read back")
            if keepIOLayout { XCTAssertTrue(boundary.isIdentity, label) }
            let back = try GraphDefLayoutChecks.run(reread, boundary, input: try tensor(c, "input.npy"), label)
            let expected = try tensor(c, "output.npy")
            assertClose(back, expected, tolerance: 1e-5, label)
            if back.shape == expected.shape { worst = max(worst, relativeError(back.floats(), expected.floats())) }
            checked += 1
        }
        print("GraphDef layout fixtures (keep-io \(keepIOLayout)): \(checked) graphs written and read back, worst error \(worst) x max|ref|")
        XCTAssertGreaterThanOrEqual(checked, 13)
    }

    func testEveryGraphConvertedWrittenAndReadBackMatchesTensorFlow() throws {
        try check(keepIOLayout: false)
    }

    func testEveryGraphWithKeptIOLayoutMatchesTensorFlow() throws {
        try check(keepIOLayout: true)
    }

    func testRoundTripGivesIdenticalWeights() throws {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for c in try cases() where refused[c.name] == nil {
            try GraphDefLayoutChecks.assertRoundTripKeepsWeights(c.folder.appendingPathComponent("graph.pb").path, through: c.target,
                                                                 back: c.source, in: dir, c.name)
        }
    }

    private func nodeDefs(_ bytes: [UInt8]) throws -> [ProtobufNodeDef] { try ProtobufGraphDef(bytes: bytes, file: "x.pb").nodeDefs() }

    /// The graph: a bare ExpandDims makes the (N, 187) signal (N, 187, 1) before a
    /// Conv1D(128). The Conv1D's own ExpandDims moves to the NCW axis, so the value it expands
    /// must be transposed to (N, 1, 187) first, or TensorFlow reads 187 input channels
    /// ("Depth of output (128) is not a multiple of the number of groups (187)").
    func testABareExpandDimsBeforeAConv1DIsTransposedForIt() throws {
        let path = FixturePaths.url("tensorflow_layout/expand_dims_conv1d/graph.pb").path
        let model = try Checkpoint.read(path)
        let result = try ConvertLayout(target: .channelsFirst).apply(to: model)
        let conv = try XCTUnwrap(result.model.node(named: "conv1d"))
        let feed = try XCTUnwrap(result.model.node(named: conv.inputs[0]), "the conv reads an inserted transpose")
        XCTAssertEqual(feed.op, .permute(permutation: [2, 1]))
        XCTAssertEqual(result.model.node(named: feed.inputs[0])?.opName, "Unsqueeze")
        let before = try nodeDefs(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
        let axis = try GraphDefLayoutChecks.constant(try XCTUnwrap(before.first { $0.name == "conv1d/ExpandDims" }).inputs[1], in: before).values
        XCTAssertTrue(axis == [1] || axis == [-3], "TensorFlow expands an NWC Conv1D's input at 1 (or -3): \(axis)")
        let defs = try nodeDefs(try GraphDefWriter.serialize(result.model, file: "x.pb"))
        let expand = try XCTUnwrap(defs.first { $0.name == "conv1d/ExpandDims" })
        XCTAssertEqual(try GraphDefLayoutChecks.constant(expand.inputs[1], in: defs).values, [axis == [1] ? 2 : -2], "the Conv1D's dummy height goes before the length in NCW")
        let transpose = try XCTUnwrap(defs.first { $0.name == GraphDefGraph.parse(expand.inputs[0]).node })
        XCTAssertEqual(transpose.op, "Transpose")
        XCTAssertEqual(try GraphDefLayoutChecks.constant(transpose.inputs[1], in: defs).values, [0, 2, 1])
        XCTAssertEqual(defs.first { $0.op == "Conv2D" && $0.name == "conv1d" }?.attribute("data_format")?.string, "NCHW")
    }

    /// An explicit NHWC -> NCHW Transpose feeding an NCHW Conv2D: the conv already reads NCHW, so
    /// converting to NCHW leaves it and the Transpose as written; the NHWC conv behind the Transpose
    /// back gets its input transposed from the value the Transpose writes (never guessed from sizes).
    func testExplicitTransposesAreReadByTheirOwnLayouts() throws {
        let model = try Checkpoint.read(FixturePaths.url("tensorflow_layout/transposes/graph.pb").path)
        let result = try ConvertLayout(target: .channelsFirst).apply(to: model)
        let first = try XCTUnwrap(result.model.node(named: "Conv2D"))
        XCTAssertEqual(first.inputs, model.node(named: "Conv2D")?.inputs, "the NCHW conv reads the graph's own Transpose")
        let second = try XCTUnwrap(result.model.node(named: "Conv2D_1"))
        let feed = try XCTUnwrap(result.model.node(named: second.inputs[0]))
        XCTAssertEqual(feed.op, .permute(permutation: [3, 1, 2]))
        XCTAssertEqual(feed.inputs, ["transpose_1"])
    }

    /// A Conv2D whose filter reads fewer channels than its input has is grouped (TensorFlow takes
    /// the groups from the depths).
    func testGroupedConvolutionsAreReadWithTheirGroups() throws {
        for (name, groups) in [("grouped_conv", [4, 3]), ("coincident_sizes", [1, 2, 1]), ("nchw_block", [1, 2, 1])] {
            let model = try Checkpoint.read(FixturePaths.url("tensorflow_layout/\(name)/graph.pb").path)
            let read = model.nodes.compactMap { node -> Int? in
                if case .conv(let c) = node.op { return c.groups }
                return nil
            }
            XCTAssertEqual(read, groups, name)
        }
    }
}
