import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvTestSupport

/// The fold pass on every ONNX fixture, written back through the ONNX writer: the foldable BNs
/// (facts.json) disappear, the others stay, and the written graph is consistent.
final class ONNXFoldTests: XCTestCase {
    func testFoldedFixturesKeepOnlyUnfoldableBatchNorms() throws {
        for name in ONNXFixtures.cases {
            let facts = try ONNXFixtures.facts(name)
            let foldable = Set(try XCTUnwrap(facts["foldable_batch_norms"] as? [String]))
            let all = try XCTUnwrap(facts["batch_norms"] as? [[String: Any]]).compactMap { $0["name"] as? String }
            let result = try FoldBatchNorm().apply(to: try ONNXFixtures.read(name))
            XCTAssertEqual(Set(result.decisions.filter { $0.target != nil }.map(\.batchNorm)), foldable, name)

            let bytes = try ONNXWriter.serialize(result.model, file: "\(name).onnx")
            let back = try ONNXReader.read(bytes: bytes, file: "\(name).onnx")
            let remaining = back.batchNormIndices.map { back.nodes[$0].name }
            XCTAssertEqual(remaining, all.filter { !foldable.contains($0) }, "\(name): BNs left")
            XCTAssertTrue(planBatchNormFolds(back).allSatisfy { $0.target == nil }, "\(name): a foldable BN remains")
            XCTAssertEqual(back.outputs, try ONNXFixtures.read(name).outputs, "\(name): output names")
            XCTAssertNoThrow(try back.validate(), name)
            let proto = try ONNXModelMessage(bytes: bytes, file: name).snapshot()
            let read = Set(proto.nodes.flatMap(\.inputs))
            for t in proto.initializers { XCTAssertTrue(read.contains(t.name), "\(name): unread initializer \(t.name)") }
        }
    }

    /// A fold without verification (initializers left in the file, lent from its mapping; folded
    /// kernels computed into gaps of the packed message) writes exactly what the fold of the model
    /// read into memory writes, for every fixture; deferred weights are the eager ones.
    func testADeferredFoldWritesWhatTheEagerFoldWrites() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var deferredWeights = 0
        for name in ONNXFixtures.cases + ONNXFixtures.modelOnlyCases {
            let eager = try ONNXFixtures.read(name)
            let deferred = try ONNXReader.read(ONNXFixtures.modelPath(name), deferringFrom: 0)
            XCTAssertEqual(deferred.nodes.map(\.name), eager.nodes.map(\.name), name)
            for (a, b) in zip(deferred.nodes, eager.nodes) {
                XCTAssertEqual(a.op, b.op, "\(name): \(a.name)")
                for (v, w) in zip(a.weights, b.weights) {
                    if v.tensor.isDeferred {
                        XCTAssertTrue(v.tensor.source is FileRangeSource, "\(name): \(a.name)/\(v.role)")
                        deferredWeights += 1
                    }
                    XCTAssertEqual(try v.tensor.materialized().bytes, w.tensor.bytes, "\(name): \(a.name)/\(v.role)")
                }
            }
            let expected = try ONNXWriter.serialize(try FoldBatchNorm().apply(to: eager).model, file: "eager.onnx")
            let folded = try FoldBatchNorm(keep: [], checksDeferredKernelsWhenWritten: true).apply(to: deferred).model
            let out = dir.appendingPathComponent("\(name).onnx")
            try Checkpoint.write(folded, to: out.path)
            XCTAssertTrue([UInt8](try Data(contentsOf: out)) == expected, name)
            XCTAssertTrue(try ONNXWriter.serialize(folded, file: "deferred.onnx") == expected, "\(name): in memory")
        }
        XCTAssertGreaterThan(deferredWeights, 10)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    /// A folded kernel found to hold NaN while it is written stops the write, leaving nothing.
    func testADeferredKernelHoldingNaNStopsTheWrite() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try ONNXFixtures.read("conv_bn")
        let c = try XCTUnwrap(model.nodes.firstIndex { $0.weight(.kernel) != nil })
        var kernel = try XCTUnwrap(model.nodes[c].weight(.kernel))
        var values = kernel.tensor.floats()
        values[1] = -.infinity
        kernel.tensor = Tensor(shape: kernel.tensor.shape, floats: values)
        kernel.isModified = true
        model.nodes[c].setWeight(kernel)
        let input = dir.appendingPathComponent("inf.onnx").path
        try Checkpoint.write(model, to: input)
        let folded = try FoldBatchNorm(keep: [], checksDeferredKernelsWhenWritten: true)
            .apply(to: try ONNXReader.read(input, deferringFrom: 0)).model
        XCTAssertThrowsError(try Checkpoint.write(folded, to: dir.appendingPathComponent("out.onnx").path)) { error in
            guard case FoldError.nonFiniteKernel? = error as? FoldError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["inf.onnx"])
    }

    func testFoldIntoLoneMatMulAddsAnAdd() throws {
        let result = try FoldBatchNorm().apply(to: try ONNXFixtures.read("matmul_bn"))
        let proto = try ONNXModelMessage(bytes: try ONNXWriter.serialize(result.model, file: "m.onnx"), file: "m").snapshot()
        XCTAssertEqual(proto.nodes.map(\.opType), ["MatMul", "Add"])
        XCTAssertEqual(proto.nodes[1].inputs, ["bn_out_matmul", "mm.bias"])
        XCTAssertEqual(proto.nodes[1].outputs, ["bn_out"])
        XCTAssertEqual(proto.nodes[0].outputs, ["bn_out_matmul"])
    }

    func testFloat16FoldStaysFloat16() throws {
        let result = try FoldBatchNorm().apply(to: try ONNXFixtures.read("float16_conv_bn"))
        let bytes = try ONNXWriter.serialize(result.model, file: "h.onnx")
        let proto = try ONNXModelMessage(bytes: bytes, file: "h").snapshot()
        XCTAssertEqual(proto.initializers.map(\.dataType), [ONNXProto.DataType.float16, ONNXProto.DataType.float16])
        let conv = try XCTUnwrap(try ONNXReader.read(bytes: bytes, file: "h").node(named: "conv"))
        XCTAssertEqual(conv.weight(.kernel)?.tensor.dtype, .float16)
        XCTAssertEqual(conv.weight(.bias)?.tensor.dtype, .float16)
        XCTAssertEqual(conv.weight(.kernel)?.tensor, result.model.node(named: "conv")?.weight(.kernel)?.tensor)
    }

    func testSharedWeightIsMarkedAndItsBatchNormsStay() throws {
        let model = try ONNXFixtures.read("shared_weight")
        XCTAssertEqual(model.node(named: "conv_a")?.weight(.kernel)?.isShared, true)
        XCTAssertEqual(model.node(named: "conv_b")?.weight(.kernel)?.storageKey, "shared.weight")
        let decisions = planBatchNormFolds(model)
        XCTAssertEqual(decisions.map(\.target), [nil, nil])
        XCTAssertTrue(decisions.allSatisfy { $0.reason?.contains("shared") ?? false }, "\(decisions)")
    }

    func testIR3FoldDropsTheBatchNormInitializersFromGraphInputsAndListsTheNewBias() throws {
        let model = try ONNXFixtures.read("ir3_conv_bn")
        XCTAssertEqual(model.inputs, ["input"], "initializers listed as graph inputs are not model inputs")
        let result = try FoldBatchNorm().apply(to: model)
        let proto = try ONNXModelMessage(bytes: try ONNXWriter.serialize(result.model, file: "o"), file: "o").snapshot()
        XCTAssertEqual(proto.inputs.map(\.name), ["input", "conv.weight", "conv.bias"], "the new bias is a graph input too")
        XCTAssertEqual(proto.inputs.last?.dims, [.value(4)])
        XCTAssertEqual(proto.inputs.last?.elemType, ONNXProto.DataType.float)
        XCTAssertEqual(proto.initializers.map(\.name), ["conv.weight", "conv.bias"])
        XCTAssertEqual(proto.irVersion, 3)
    }

    func testFoldedConstantWeightBecomesAnInitializerAndItsConstantNodeGoes() throws {
        let result = try FoldBatchNorm().apply(to: try ONNXFixtures.read("constant_nodes"))
        let proto = try ONNXModelMessage(bytes: try ONNXWriter.serialize(result.model, file: "c"), file: "c").snapshot()
        XCTAssertEqual(proto.nodes.map(\.name), ["conv", "lo", "hi", "clip", "shape", "reshape", "fc"])
        XCTAssertEqual(proto.nodes[0].inputs, ["input", "w_const_1", "conv.bias"])
        XCTAssertEqual(proto.initializers.map(\.name), ["conv.bias", "fc.weight", "w_const_1"])
    }

    /// Fields outside bnconv's schema (metadata_props at every level) ride along as protobuf-c
    /// unknown fields of the records the writer keeps, and leave with the records it drops.
    func testFieldsOutsideTheSchemaSurviveAFold() throws {
        func contains(_ bytes: [UInt8], _ text: String) -> Bool {
            let needle = Array(text.utf8)
            return bytes.indices.dropLast(needle.count - 1).contains { Array(bytes[$0..<($0 + needle.count)]) == needle }
        }
        let original = try ONNXFixtures.modelBytes("metadata")
        for text in ["conv-metadata", "bn-metadata", "graph-metadata", "model-metadata", "doc of conv"] {
            XCTAssertTrue(contains(original, text), "fixture lacks \(text)")
        }
        let result = try FoldBatchNorm().apply(to: try ONNXFixtures.read("metadata"))
        let folded = try ONNXWriter.serialize(result.model, file: "m.onnx")
        for text in ["conv-metadata", "graph-metadata", "model-metadata", "doc of conv"] {
            XCTAssertTrue(contains(folded, text), "lost \(text)")
        }
        XCTAssertFalse(contains(folded, "bn-metadata"), "the removed BN's metadata stayed")
    }
}
