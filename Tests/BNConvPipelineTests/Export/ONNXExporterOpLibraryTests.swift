@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvPipeline
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Models with op-library nodes exported to ONNX: the GraphDef op fixtures (raw TensorFlow ops,
/// Tests/Fixtures/graphdef_ops) and the ONNX fixtures whose nodes bnconv runs in its op library,
/// read back and run on the engine against the framework's recorded outputs.
final class ONNXExporterOpLibraryTests: XCTestCase {
    /// Runs the exported bytes on `inputs` laid out as the export's boundary says; outputs by name, in the source layout.
    private func run(_ export: ONNXExporter.Export, _ inputs: [Tensor]) throws -> [String: Tensor] {
        let model = try ONNXReader.read(bytes: export.bytes, file: "<export>")
        let fed = try zip(inputs, export.boundary.inputs).map { x, p in try p.map { try x.transposed($0) } ?? x }
        let outputs = try ModelRunner(model: model).run(fed)
        var named: [String: Tensor] = [:]
        for ((name, out), p) in zip(zip(model.outputs, outputs), export.boundary.outputs) {
            named[name] = try p.map { try out.transposed(LayoutBoundary.inverse($0)) } ?? out
        }
        return named
    }

    private func graphDefCases() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: FixturePaths.url("graphdef_ops").path).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Every output of every GraphDef op fixture, through the export, equals TensorFlow's: integers
    /// exactly, floats within 1e-5 x max(1, max|ref|). The ONNX holds no TensorFlow op, and the
    /// op-library ops that read image axes keep the graph in its own layout.
    func testGraphDefOpFixturesExportAndMatchTensorFlow() throws {
        let cases = try graphDefCases()
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        var outputsChecked = 0
        for name in cases {
            let folder = FixturePaths.url("graphdef_ops/\(name)")
            let model = try Checkpoint.read(folder.appendingPathComponent("graph.pb").path)
            XCTAssertTrue(model.nodes.contains { if case .tensor(let op) = $0.op { return op.type.hasPrefix("TF.") } else { return false } },
                          "\(name) holds op-library TensorFlow ops")
            let export = try ONNXExporter.export(model, file: "\(name).onnx")
            XCTAssertFalse(export.opCounts.keys.contains { $0.hasPrefix("TF.") }, "\(name): \(export.opCounts)")
            XCTAssertTrue(export.boundary.isIdentity, "\(name): kept in its own layout")
            XCTAssertTrue(export.layout.notes.contains { $0.hasPrefix("kept in the source layout") }, "\(export.layout.notes)")
            let outputs = try run(export, [try NumPyFile.read(folder.appendingPathComponent("input.npy").path)])
            let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("facts.json"))) as? [String: Any])
            let declared = try XCTUnwrap(facts["outputs"] as? [[String: Any]])
            for (k, output) in declared.enumerated() {
                let tensorName = try XCTUnwrap(output["name"] as? String)
                let value = String(tensorName.split(separator: ":")[0])
                let expected = try NumPyFile.read(folder.appendingPathComponent("output_\(k).npy").path)
                guard let got = outputs[value] else { XCTFail("\(name): output \(value) (\(output["key"] ?? "")) missing"); continue }
                if let problem = TensorOpModels.difference(got, expected, tolerance: 1e-5) {
                    XCTFail("\(name) \(output["key"] ?? k): \(problem)")
                }
                outputsChecked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(outputsChecked, 45)
    }

    /// The ONNX fixtures with op-library nodes (a ConvTranspose's bias Add, the ops zoo) export and
    /// give onnxruntime's recorded output.
    func testONNXFixturesWithOpLibraryNodesExport() throws {
        for name in ["conv_transpose_add_bn", "ops_zoo", "constant_nodes"] {
            let model = try ONNXFixtures.read(name)
            let export = try ONNXExporter.export(model, file: "\(name).onnx")
            let input = try NumPyFile.read(FixturePaths.url("onnx/\(name)/input.npy").path)
            let expected = try NumPyFile.read(FixturePaths.url("onnx/\(name)/output.npy").path)
            let got = try XCTUnwrap(try run(export, [input])[model.outputs[0]], name)
            if let problem = TensorOpModels.difference(got, expected, tolerance: 1e-5) { XCTFail("\(name): \(problem)") }
        }
    }

    /// An op-library node the layout pass can pass through (swish's IdentityN) does not keep the
    /// model in its own layout: the export is channels-first with the input transposed.
    func testLayoutFreeOpLibraryNodesDoNotKeepTheSourceLayout() throws {
        let x = Node(name: "x", op: .input, inputs: [], outputs: ["x"])
        let kernel = Tensor(shape: [1, 1, 3, 2], floats: [0.5, -1, 0.25, 2, 1, -0.5])
        let conv = Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 2, kernelSize: [1, 1], padding: .valid, useBias: false)),
                        inputs: ["x"], outputs: ["c"], weights: [Weight(role: .kernel, tensor: kernel, layout: .hwio, storageKey: "k")])
        let identityN = Node(name: "n", op: .tensor(TensorOp(type: "TF.IdentityN", opset: 18, arguments: [.value(0)])), inputs: ["c"], outputs: ["y"])
        let model = Model(name: "m", format: .graphDef, inputs: ["x"], outputs: ["y"], nodes: [x, conv, identityN],
                          values: ["x": ValueInfo(name: "x", shape: [nil, 4, 4, 3], layout: .channelsLast)])
        let export = try ONNXExporter.export(model, file: "m.onnx")
        XCTAssertFalse(export.boundary.isIdentity)
        XCTAssertNil(export.opCounts["Transpose"], "\(export.opCounts)")
        let input = TensorOpModels.values([1, 4, 4, 3])
        let expected = try ModelRunner(model: model).run([input])[0]
        let got = try XCTUnwrap(try run(export, [input])["y"])
        XCTAssertNil(TensorOpModels.difference(got, expected, tolerance: 1e-6))
    }
}
