import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvOps
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Op-library nodes of older opsets exported in the graph's opset: each signature change the
/// exporter upgrades, on a graph onnxruntime ran in the old opset (Tests/Fixtures/onnx_opset,
/// tools/fixtures/make_onnx_opset_fixtures.py), read back and run on the engine; the changes older
/// than onnxruntime's opset 7 on bnconv's engine, old graph against upgraded; exact refusals.
final class ONNXOpsetUpgradeTests: XCTestCase {
    typealias M = TensorOpModels

    private func cases() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: FixturePaths.url("onnx_opset").path).filter { !$0.hasPrefix(".") }.sorted()
    }

    private func numbered(_ folder: URL, _ stem: String) throws -> [Tensor] {
        var out: [Tensor] = []
        while FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(stem)_\(out.count).npy").path) {
            out.append(try NumPyFile.read(folder.appendingPathComponent("\(stem)_\(out.count).npy").path))
        }
        return out
    }

    /// Every old-opset fixture, exported, reads back in the graph's opset with the new forms and
    /// gives onnxruntime's outputs of the old graph.
    func testEveryOldOpsetFixtureUpgradesAndMatchesOnnxRuntime() throws {
        let names = try cases()
        XCTAssertGreaterThanOrEqual(names.count, 25)
        for name in names {
            let folder = FixturePaths.url("onnx_opset/\(name)")
            let model = try ONNXReader.read(folder.appendingPathComponent("model.onnx").path)
            let graph = try M.export(model)
            XCTAssertGreaterThanOrEqual(graph.opset, 17, name)
            let read = try ONNXReader.read(bytes: graph.bytes, file: "\(name).onnx")
            for node in read.nodes {
                if case .opaque(let type) = node.op { XCTFail("\(name): \(node.name) reads back as opaque \(type)") }
                guard case .tensor(let op) = node.op else { continue }
                XCTAssertEqual(op.opset, graph.opset, name)
                for (attribute, removedAt) in Self.movedAttributes[op.type] ?? [] where graph.opset >= removedAt && op.attributes[attribute] != nil {
                    XCTFail("\(name): \(op.type) still has attribute '\(attribute)' in opset \(graph.opset)")
                }
                XCTAssertFalse(["Upsample"].contains(op.type), "\(name): Upsample is deprecated from opset 10")
                if op.type == "Resize" { XCTAssertNotEqual(op.attributes["coordinate_transformation_mode"], .string("tf_half_pixel_for_nn"), name) }
            }
            let inputs = try numbered(folder, "input"), expected = try numbered(folder, "output")
            let outputs = try ModelRunner(model: read).run(inputs)
            XCTAssertEqual(outputs.count, expected.count, name)
            for (k, (got, want)) in zip(outputs, expected).enumerated() {
                if let problem = M.difference(got, want, tolerance: 1e-5) { XCTFail("\(name) output \(k): \(problem)") }
            }
        }
    }

    /// Attributes that became inputs (or went), and the opset that moved them (onnx docs/Changelog.md).
    static let movedAttributes: [String: [(String, Int)]] = [
        "Squeeze": [("axes", 13)], "Unsqueeze": [("axes", 13)], "ReduceSum": [("axes", 13)], "ReduceMean": [("axes", 18)],
        "ReduceMax": [("axes", 18)], "Split": [("split", 13)], "Pad": [("pads", 11), ("value", 11)], "Clip": [("min", 11), ("max", 11)],
        "Slice": [("starts", 10), ("ends", 10), ("axes", 10)], "Dropout": [("ratio", 12)], "BatchNormalization": [("spatial", 9)],
        "Resize": [("scales", 10)],
    ]

    /// The exported graph's opset is the newest its nodes need: ReduceMean read in opset 18's form
    /// keeps it, everything else (Squeeze of 11, ...) is raised to it.
    func testTheGraphTakesTheNewestOpsetItsNodesNeed() throws {
        let model = M.model(inputs: [("x", [2, 1, 3], .float32)], [
            M.op("squeezed", "Squeeze", ["x"], opset: 11, ["axes": .ints([1])]),
            M.int32s("axes", [1]), M.op("mean", "ReduceMean", ["squeezed", "axes"], opset: 18, ["keepdims": .int(0)]),
        ], outputs: ["mean"])
        let graph = try M.assertExportRunsAlike(model, [M.values([2, 1, 3])], "mixed")
        XCTAssertEqual(graph.opset, 18)
        let read = try ONNXReader.read(bytes: graph.bytes, file: "m.onnx")
        let squeeze = try XCTUnwrap(read.node(named: "squeezed"))
        guard case .tensor(let op) = squeeze.op else { return XCTFail("\(squeeze.op)") }
        XCTAssertNil(op.attributes["axes"])
        XCTAssertEqual(op.arguments.count, 2, "axes are Squeeze's input 1 from opset 13")
    }

    /// Changes before onnxruntime's oldest opset: the old graph on bnconv's engine (the op library
    /// reads every opset) against its upgrade.
    func testChangesBeforeOpset7RunAlike() throws {
        let x = M.values([2, 3, 4, 5])
        let cases: [(String, [Node])] = [
            ("consumed_inputs", [M.op("y", "Relu", ["x"], opset: 1, ["consumed_inputs": .ints([0])])]),
            ("legacy broadcast", [M.constant("b", M.values([3, 4], seed: 2)),
                                  M.op("y", "Add", ["x", "b"], opset: 6, ["broadcast": .int(1), "axis": .int(1)])]),
            ("legacy broadcast suffix", [M.constant("b", M.values([5], seed: 2)),
                                         M.op("y", "Mul", ["x", "b"], opset: 6, ["broadcast": .int(1)])]),
            ("concat default axis", [M.op("y", "Concat", ["x", "x"], opset: 1)]),
            ("cast by name", [M.op("y", "Cast", ["x"], opset: 1, ["to": .string("INT32")])]),
            ("reshape attribute", [M.op("y", "Reshape", ["x"], opset: 1, ["shape": .ints([2, -1, 5])])]),
            ("pad paddings", [M.op("y", "Pad", ["x"], opset: 1, ["paddings": .ints([0, 0, 1, 0, 0, 0, 2, 1]), "value": .float(0.5)])]),
            ("split input", [M.int32s("sizes", [1, 3]),
                             Node(name: "y", op: .tensor(TensorOp(type: "Split", opset: 1, attributes: ["axis": .int(2)],
                                                                  arguments: [.value(0), .value(1)])),
                                  inputs: ["x", "sizes"], outputs: ["y", "z"])]),
            ("batchnorm 6", [M.constant("s", M.values([3], seed: 3)), M.constant("b", M.values([3], seed: 4)),
                             M.constant("m", M.values([3], seed: 5)), M.constant("v", Tensor(shape: [3], doubles: [0.5, 1, 2], dtype: .float32)),
                             M.op("y", "BatchNormalization", ["x", "s", "b", "m", "v"], opset: 6,
                                  ["is_test": .int(1), "spatial": .int(1), "epsilon": .float(0.01)])]),
            ("dropout 6", [M.op("y", "Dropout", ["x"], opset: 6, ["is_test": .int(1), "ratio": .float(0.2)])]),
            ("clip 6", [M.op("y", "Clip", ["x"], opset: 6, ["min": .float(-0.25)])]),
        ]
        for (label, nodes) in cases {
            let outputs = nodes.last!.outputs
            try M.assertExportRunsAlike(M.model(inputs: [("x", [2, 3, 4, 5], .float32)], nodes, outputs: outputs), [x], label)
        }
    }

    /// Upsample of opset 1 (height and width scales) becomes Resize with the scales as an input.
    func testUpsampleOfOpset1BecomesResize() throws {
        let node = ONNXExportNode("Upsample", name: "up", opset: 1, inputs: [.value("x")], outputs: ["y"],
                                  attributes: ["height_scale": .float(2), "width_scale": .float(3), "mode": .string("bilinear")])
        var graph = ONNXExportGraph(baseOpset: 17, taken: ["x", "y"])
        let facts = ONNXExportFacts(model: M.model(inputs: [("x", [1, 1, 2, 2], .float32)], [], outputs: ["x"]), floatType: .float32)
        let upgraded = try ONNXOpsetUpgrade.upgrade(node, to: 17, graph: &graph, facts: facts)
        XCTAssertEqual(upgraded.count, 1)
        let resize = try XCTUnwrap(upgraded.first)
        XCTAssertEqual(resize.type, "Resize")
        XCTAssertEqual(resize.string("mode"), "linear")
        XCTAssertEqual(resize.string("coordinate_transformation_mode"), "asymmetric")
        XCTAssertNil(resize.attributes["scales"])
        guard case .constant(let scales) = resize.input(2) else { return XCTFail("\(resize.inputs)") }
        XCTAssertEqual(scales.doubles(), [1, 1, 2, 3])
    }

    /// Upgrades whose nodes no fixture holds, checked on the rewritten node.
    func testUpgradedNodesOfTheRemainingSteps() throws {
        var graph = ONNXExportGraph(baseOpset: 17, taken: [])
        let facts = ONNXExportFacts(model: M.model(inputs: [("x", [2, 3], .float32)], [], outputs: ["x"]), floatType: .float32)
        func upgraded(_ node: ONNXExportNode) throws -> ONNXExportNode {
            let nodes = try ONNXOpsetUpgrade.upgrade(node, to: 17, graph: &graph, facts: facts)
            XCTAssertEqual(nodes.count, 1, node.type)
            return try XCTUnwrap(nodes.first)
        }
        let gemm = try upgraded(ONNXExportNode("Gemm", name: "g", opset: 6, inputs: [.value("x"), .value("w"), .value("b")], outputs: ["y"],
                                               attributes: ["broadcast": .int(1), "transB": .int(1)]))
        XCTAssertEqual(gemm.attributes, ["transB": .int(1)])
        let split = try upgraded(ONNXExportNode("Split", name: "s", opset: 11, inputs: [.value("x")], outputs: ["a", "b"],
                                                attributes: ["axis": .int(1), "split": .ints([1, 2])]))
        XCTAssertNil(split.attributes["split"])
        guard case .constant(let sizes) = split.input(1) else { return XCTFail("\(split.inputs)") }
        XCTAssertEqual(sizes.integers(), [1, 2])
        XCTAssertEqual(sizes.dtype, .int64)
        // The ONNX reader's part count of a Split without sizes is not an attribute before opset 18.
        let equal = try upgraded(ONNXExportNode("Split", name: "e", opset: 13, inputs: [.value("x")], outputs: ["a", "b"],
                                                attributes: ["axis": .int(1), "num_outputs": .int(2)]))
        XCTAssertNil(equal.attributes["num_outputs"])
        let at18 = try ONNXOpsetUpgrade.upgrade(ONNXExportNode("Split", name: "f", opset: 13, inputs: [.value("x")], outputs: ["a", "b", "c"],
                                                               attributes: ["axis": .int(1)]), to: 18, graph: &graph, facts: facts)
        XCTAssertEqual(at18.first?.attributes["num_outputs"], .int(3))
        let squeeze = try upgraded(ONNXExportNode("Squeeze", name: "q", opset: 1, inputs: [.value("x")], outputs: ["y"], attributes: ["axes": .ints([0])]))
        XCTAssertNil(squeeze.attributes["axes"])
        guard case .constant(let axes) = squeeze.input(1) else { return XCTFail("\(squeeze.inputs)") }
        XCTAssertEqual(axes.integers(), [0])
    }

    func testRefusalsNameTheOpTheOpsetsAndTheReason() {
        assertRefused(M.model(inputs: [("x", [2, 3], .float32)], [
            M.int32s("t", [2]), M.int32s("a", [1]), M.op("y", "Tile", ["x", "t", "a"], opset: 1),
        ], outputs: ["y"]), node: "y", "ONNX Tile of opset 1 cannot be upgraded to opset 17: its 'tiles' and 'axis' inputs have no later form in bnconv")
        assertRefused(M.model(inputs: [("x", [2, 3, 4, 5], .float32)], [
            M.op("y", "BatchNormalization", ["x", "x", "x", "x", "x"], opset: 7, ["spatial": .int(0)]),
        ], outputs: ["y"]), node: "y", "ONNX BatchNormalization of opset 7 cannot be upgraded to opset 17: spatial=0 (statistics per element, not per channel) has no later form")
        assertRefused(M.model(inputs: [("x", [1, 1, 4, 4], .float32), ("s", [4], .float32)], [
            M.op("y", "Resize", ["x", "s"], opset: 10),
        ], outputs: ["y"]), node: "y", "ONNX Resize of opset 10 cannot be upgraded to opset 17: nearest resizing by scales computed at run time: opset 10 rounds down where an axis grows and up where it shrinks, which no later nearest_mode says for scales unknown in advance")
        assertRefused(M.model(inputs: [("x", [1, 1, 4, 4], .float32)], [
            M.constant("roi", Tensor(shape: [0], doubles: [], dtype: .float32)),
            M.constant("scales", Tensor(shape: [4], doubles: [1, 1, 2, 2], dtype: .float32)),
            M.op("y", "Resize", ["x", "roi", "scales"], opset: 11, ["mode": .string("linear"), "coordinate_transformation_mode": .string("tf_half_pixel_for_nn")]),
        ], outputs: ["y"]), node: "y", "ONNX Resize of opset 11 cannot be upgraded to opset 17: coordinate_transformation_mode 'tf_half_pixel_for_nn' with mode 'linear'")
        // GroupNormalization of opset 18 in a graph of opset 21 (its scale and bias change meaning).
        var graph = ONNXExportGraph(baseOpset: 21, taken: [])
        let facts = ONNXExportFacts(model: M.model(inputs: [], [], outputs: []), floatType: .float32)
        let node = ONNXExportNode("GroupNormalization", name: "g", opset: 18, inputs: [.value("x"), .value("s"), .value("b")], outputs: ["y"])
        XCTAssertThrowsError(try ONNXOpsetUpgrade.upgrade(node, to: 21, graph: &graph, facts: facts)) { error in
            XCTAssertEqual("\(error)", "ONNX GroupNormalization of opset 18 cannot be upgraded to opset 21: its scale and bias change from one value per group to one per channel")
        }
        // A BatchNormalization of opset 9 writing its running statistics.
        let bn = ONNXExportNode("BatchNormalization", name: "bn", opset: 9, inputs: ["x", "s", "b", "m", "v"].map { .value($0) },
                                outputs: ["y", "mean", "var"])
        XCTAssertThrowsError(try ONNXOpsetUpgrade.upgrade(bn, to: 17, graph: &graph, facts: facts)) { error in
            XCTAssertEqual("\(error)", "ONNX BatchNormalization of opset 9 cannot be upgraded to opset 17: it writes its running statistics, which opset 14 writes only in training mode")
        }
    }

    /// The signature-change table knows every ONNX op of the op library.
    func testTheHistoryCoversEveryOpOfTheLibrary() {
        let missing = OpLibrary.supportedOps.filter { !$0.hasPrefix("TF.") && ONNXOpsetHistory.versions[$0] == nil }
        XCTAssertEqual(missing, [])
        for (op, versions) in ONNXOpsetHistory.versions { XCTAssertEqual(versions, versions.sorted(), op) }
        for key in ONNXOpsetUpgrade.steps.keys {
            let parts = key.split(separator: "@")
            XCTAssertTrue(ONNXOpsetHistory.versions[String(parts[0])]?.contains(Int(parts[1]) ?? -1) == true, "\(key) is a version of its op")
        }
    }

    private func assertRefused(_ model: Model, node: String, _ problem: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try M.export(model), file: file, line: line) { error in
            guard let e = error as? CheckpointError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.place, node, file: file, line: line)
            XCTAssertEqual(e.problem, problem, file: file, line: line)
        }
    }
}
