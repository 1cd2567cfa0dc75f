@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport
import XCTest

/// The one "what changed" every writer works from: exactly the nodes, inputs, weights and outputs
/// a pass touched, whatever the format.
final class ModelChangesTests: XCTestCase {
    private func read(_ relative: String) throws -> Model {
        let path = FixturePaths.url(relative).path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        return try Checkpoint.read(path)
    }

    private func kinds(_ change: ModelChanges.NodeChange?) -> [String] {
        (change?.weights ?? []).map { "\($0.role) \($0.kind)" }
    }

    func testAModelAsReadHasNoChanges() throws {
        for relative in ["keras/conv_bn_flatten_dense/keras2.h5", "tensorflow/conv_bias_bn/graph.pb", "onnx/conv_bn/model.onnx"] {
            let changes = try XCTUnwrap(ModelChanges(try read(relative)), relative)
            XCTAssertTrue(changes.isEmpty, relative)
            XCTAssertEqual(changes.nodes.map(\.index), Array(changes.nodes.indices), relative)
        }
    }

    func testAModelNoReaderBuiltHasNoChangesToTell() {
        XCTAssertNil(ModelChanges(Model(name: "m", format: .onnx, inputs: [], outputs: [], nodes: [], values: [:])))
    }

    func testKerasFoldListsExactlyTheFoldsChanges() throws {
        let model = try read("keras/conv_bn_flatten_dense/keras2.h5")
        let bnOutput = try XCTUnwrap(model.node(named: "bn")?.outputs.first)
        let convOutput = try XCTUnwrap(model.node(named: "conv")?.outputs.first)
        let folded = try FoldBatchNorm().apply(to: model).model
        let changes = try XCTUnwrap(ModelChanges(folded))

        XCTAssertEqual(changes.removed.map(\.name), ["bn"])
        XCTAssertEqual(changes.removed.first?.inputs, [convOutput])
        XCTAssertEqual(changes.created, [])
        let changed = changes.nodes.filter(\.isChanged).map { folded.nodes[$0.index].name }
        XCTAssertEqual(changed, ["conv", "relu"])
        let conv = changes.nodes.first { folded.nodes[$0.index].name == "conv" }
        XCTAssertEqual(kinds(conv), ["kernel modified", "bias modified"])
        XCTAssertEqual(conv?.weight(.kernel)?.asRead?.storageKey, model.node(named: "conv")?.weight(.kernel)?.storageKey)
        XCTAssertFalse(conv?.opChanged ?? true, "use_bias was on already")
        let relu = changes.nodes.first { folded.nodes[$0.index].name == "relu" }
        XCTAssertEqual(relu?.rewiredInputs, [ModelChanges.Rewiring(slot: 0, asRead: bnOutput, now: convOutput)])
        XCTAssertEqual(changes.outputs, [])
    }

    func testONNXFoldOfABiaslessConvAddsABiasAndMovesTheOutput() throws {
        let folded = try FoldBatchNorm().apply(to: try read("onnx/conv_nobias_bn/model.onnx")).model
        let changes = try XCTUnwrap(ModelChanges(folded))
        XCTAssertEqual(changes.removed.map(\.name), ["bn"])
        let conv = changes.nodes.first { folded.nodes[$0.index].name == "conv" }
        XCTAssertEqual(kinds(conv), ["kernel modified", "bias added"])
        XCTAssertNil(conv?.weight(.bias)?.asRead)
        XCTAssertTrue(conv?.opChanged ?? false, "useBias turned on")
        XCTAssertEqual(changes.outputs, [ModelChanges.OutputChange(index: 0, asRead: "bn_out", now: "conv_out")])
        XCTAssertFalse(changes.outputCountChanged)
    }

    func testRenamedNodeIsTheSameNode() throws {
        var model = try read("onnx/conv_bn/model.onnx")
        let c = try XCTUnwrap(model.nodeIndex(named: "conv"))
        model.nodes[c].name = "renamed"
        let changes = try XCTUnwrap(ModelChanges(model))
        XCTAssertEqual(changes.removed.map(\.name), [])
        XCTAssertTrue(changes.nodes[c].isRenamed)
        XCTAssertEqual(changes.nodes[c].asRead?.name, "conv")
        XCTAssertEqual(changes.nodes.filter(\.isChanged).map(\.index), [c])
    }

    func testRemovedWeightAndCreatedNodes() throws {
        var model = try read("onnx/conv_bn/model.onnx")
        let c = try XCTUnwrap(model.nodeIndex(named: "conv"))
        model.nodes[c].weights.removeAll { $0.role == .bias }
        let changes = try XCTUnwrap(ModelChanges(model))
        XCTAssertEqual(kinds(changes.nodes[c]), ["bias removed"])

        let converted = try ConvertLayout(target: .channelsLast, keepIOLayout: true).apply(to: try read("onnx/conv_bn/model.onnx"))
        let layoutChanges = try XCTUnwrap(ModelChanges(converted.model))
        XCTAssertEqual(layoutChanges.created.map { converted.model.nodes[$0].name }, converted.insertedTransposes)
        XCTAssertFalse(layoutChanges.created.isEmpty)
        let convChange = layoutChanges.nodes.first { converted.model.nodes[$0.index].name == "conv" }
        XCTAssertTrue(convChange?.opChanged ?? false, "the conv's layout attribute")
    }
}
