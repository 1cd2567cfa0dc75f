import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Edits made to a Model (by hand here, by the fold pass in ONNXFoldTests) are written into a
/// consistent ONNX graph: removed nodes and their initializers gone, modified weights rewritten,
/// new biases added under fresh names, graph outputs keeping their names, nothing dangling.
final class ONNXWriterTests: XCTestCase {
    /// Reads back `bytes` and checks the graph: every node input is a graph input, an initializer
    /// or an earlier node's output; initializer names are unique; value_infos name live values.
    private func assertConsistent(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> ONNXProto.Model {
        let proto = try ONNXModelMessage(bytes: bytes, file: "out.onnx").snapshot()
        var defined = Set(proto.inputs.map(\.name)).union(proto.initializers.map(\.name))
        XCTAssertEqual(Set(proto.initializers.map(\.name)).count, proto.initializers.count, "duplicate initializer", file: file, line: line)
        var read = Set<String>()
        for node in proto.nodes {
            for input in node.inputs where !input.isEmpty {
                XCTAssertTrue(defined.contains(input), "\(node.name) reads undefined '\(input)'", file: file, line: line)
                read.insert(input)
            }
            defined.formUnion(node.outputs)
        }
        for output in proto.outputs { XCTAssertTrue(defined.contains(output.name), "output \(output.name)", file: file, line: line) }
        for info in proto.valueInfos {
            XCTAssertTrue(defined.contains(info.name), "dangling value_info \(info.name)", file: file, line: line)
        }
        for t in proto.initializers {
            XCTAssertTrue(read.contains(t.name), "unread initializer \(t.name)", file: file, line: line)
        }
        _ = try ONNXReader.read(bytes: bytes, file: "out.onnx")
        return proto
    }

    /// conv_nobias_bn with the BN removed by hand, the output rewired, the kernel doubled and a bias added.
    private func handEdited(renameConvTo newName: String? = nil) throws -> (Model, Tensor, [Float]) {
        var model = try ONNXFixtures.read("conv_nobias_bn")
        let bn = try XCTUnwrap(model.nodeIndex(named: "bn"))
        model.nodes.remove(at: bn)
        model.outputs = ["conv_out"]
        model.values["bn_out"] = nil
        let c = try XCTUnwrap(model.nodeIndex(named: "conv"))
        var kernel = try XCTUnwrap(model.nodes[c].weight(.kernel))
        let doubled = Tensor(shape: kernel.tensor.shape, floats: kernel.tensor.floats().map { $0 * 2 })
        kernel.tensor = doubled
        kernel.isModified = true
        model.nodes[c].setWeight(kernel)
        let bias: [Float] = [0.5, -0.25, 0.125, 3]
        model.nodes[c].setWeight(Weight(role: .bias, tensor: Tensor(shape: [4], floats: bias), storageKey: "", isModified: true))
        guard case .conv(var conv) = model.nodes[c].op else { throw XCTSkip("not a conv") }
        conv.useBias = true
        model.nodes[c].op = .conv(conv)
        if let newName { model.nodes[c].name = newName }
        return (model, doubled, bias)
    }

    func testHandEditedModelWritesAConsistentGraph() throws {
        let (model, doubled, bias) = try handEdited()
        let bytes = try ONNXWriter.serialize(model, file: "out.onnx")
        let proto = try assertConsistent(bytes)
        XCTAssertEqual(proto.nodes.map(\.opType), ["Conv"])
        XCTAssertEqual(proto.nodes[0].inputs, ["input", "conv.weight", "conv.bias"])
        XCTAssertEqual(proto.nodes[0].outputs, ["bn_out"], "the graph output keeps its name")
        XCTAssertEqual(proto.outputs.map(\.name), ["bn_out"])
        XCTAssertEqual(proto.initializers.map(\.name), ["conv.weight", "conv.bias"])
        XCTAssertEqual(proto.valueInfos.map(\.name), [], "conv_out's value_info no longer names a value")
        XCTAssertEqual(proto.nodes[0].attributes, try ONNXModelMessage(bytes: try ONNXFixtures.modelBytes("conv_nobias_bn"), file: "")
                        .snapshot().nodes[0].attributes, "attributes re-emitted as they were")

        let back = try ONNXReader.read(bytes: bytes, file: "out.onnx")
        let conv = try XCTUnwrap(back.node(named: "conv"))
        XCTAssertEqual(conv.weight(.kernel)?.tensor, doubled)
        XCTAssertEqual(conv.weight(.bias)?.tensor.floats(), bias)
        XCTAssertEqual(conv.weight(.bias)?.storageKey, "conv.bias")
        XCTAssertEqual(back.batchNormIndices, [])
        XCTAssertEqual(back.outputs, ["bn_out"])
        XCTAssertNoThrow(try back.validate())
        // The rewritten initializers are raw_data, not typed fields.
        XCTAssertEqual(proto.initializers[0].rawData?.count, doubled.bytes.count)
        XCTAssertEqual(proto.initializers[0].floatData, [])
    }

    func testNewBiasNameNeverCollides() throws {
        // Named "bn", the conv's new bias would be "bn.bias": the BN's beta initializer had that name.
        let (model, _, _) = try handEdited(renameConvTo: "bn")
        let proto = try assertConsistent(try ONNXWriter.serialize(model, file: "out.onnx"))
        XCTAssertEqual(proto.nodes[0].inputs, ["input", "conv.weight", "bn.bias_1"])
    }

    func testWrittenFileRoundTripsAgain() throws {
        let (model, _, _) = try handEdited()
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("edited.onnx").path
        try ONNXWriter.write(model, to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(bytes, try ONNXWriter.serialize(model, file: path), "the streamed file is the packed message")
        XCTAssertEqual(try ONNXWriter.serialize(try ONNXReader.read(path), file: path), bytes)
    }

    func testRemovingAWeightIsRefused() throws {
        var model = try ONNXFixtures.read("conv_bn")
        let c = try XCTUnwrap(model.nodeIndex(named: "conv"))
        model.nodes[c].weights.removeAll { $0.role == .bias }
        XCTAssertThrowsError(try ONNXWriter.serialize(model, file: "out.onnx")) { error in
            XCTAssertEqual((error as? CheckpointError)?.description,
                           "out.onnx: node 'conv': its bias weight was removed, which the ONNX writer cannot express")
        }
    }

    func testLayoutConversionIsRefusedNotSilentlyDropped() throws {
        let converted = try ConvertLayout(target: .channelsLast).apply(to: try ONNXFixtures.read("conv_bn")).model
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("nhwc.onnx").path
        XCTAssertThrowsError(try ONNXWriter.write(converted, to: target)) { error in
            let e = error as? CheckpointError
            XCTAssertEqual(e?.kind, .unsupported)
            XCTAssertTrue(e?.problem.contains("cannot") ?? false, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }

    func testChangedAttributeIsRefused() throws {
        var model = try ONNXFixtures.read("conv_bn")
        let c = try XCTUnwrap(model.nodeIndex(named: "conv"))
        guard case .conv(var conv) = model.nodes[c].op else { return XCTFail("not a conv") }
        conv.strides = [2, 2]
        model.nodes[c].op = .conv(conv)
        XCTAssertThrowsError(try ONNXWriter.serialize(model, file: "o.onnx")) { error in
            XCTAssertEqual((error as? CheckpointError)?.place, "node 'conv'")
        }
    }
}
