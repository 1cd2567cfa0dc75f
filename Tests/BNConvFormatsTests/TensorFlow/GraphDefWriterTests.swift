import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Writing models back as GraphDefs: untouched graphs byte for byte; edited ones (BN removed,
/// inputs rewired, weights changed, a bias added) read back with the change and nothing dangling.
final class GraphDefWriterTests: XCTestCase {
    private func read(_ name: String) throws -> Model { try GraphDefReader.read(TensorFlowFixtures.graph(name)) }

    /// Every NodeDef input names a node of the graph (data and control), and names are unique.
    private func assertNoDanglingInputs(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        let nodes = try ProtobufGraphDef(bytes: bytes, file: "written").nodeDefs()
        let names = Set(nodes.map(\.name))
        XCTAssertEqual(names.count, nodes.count, "duplicate node names", file: file, line: line)
        for n in nodes {
            for input in n.inputs {
                XCTAssertTrue(names.contains(GraphDefGraph.parse(input).node), "\(n.name) reads missing '\(input)'",
                              file: file, line: line)
            }
        }
    }

    /// A model read and written without edits gives the file's exact bytes, for every fixture,
    /// through `serialize` and through `write` (temp file + rename).
    func testUntouchedModelsWriteBackByteIdentical() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in try TensorFlowFixtures.cases() {
            let original = try TensorFlowFixtures.bytes(name)
            let model = try read(name)
            XCTAssertTrue(try GraphDefWriter.serialize(model, file: "out.pb") == original, name)
            let out = dir.appendingPathComponent("\(name).pb")
            try GraphDefWriter.write(model, to: out.path)
            XCTAssertTrue([UInt8](try Data(contentsOf: out)) == original, name)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    /// A fold without verification (every Const weight left in the file, lent from its mapping,
    /// the folded kernels computed when written) writes exactly what the fold of the graph read
    /// into memory writes, for every fixture; the weights read deferred are the ones read eagerly.
    func testADeferredFoldWritesWhatTheEagerFoldWrites() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var deferredWeights = 0
        for name in try TensorFlowFixtures.cases() {
            let path = TensorFlowFixtures.graph(name)
            let eager = try read(name)
            let deferred = try GraphDefReader.read(path, deferringFrom: 0)
            XCTAssertEqual(deferred.nodes.map(\.name), eager.nodes.map(\.name), name)
            for (a, b) in zip(deferred.nodes, eager.nodes) {
                for (v, w) in zip(a.weights, b.weights) {
                    if v.tensor.isDeferred {
                        XCTAssertTrue(v.tensor.source is FileRangeSource, "\(name): \(a.name)/\(v.role)")
                        XCTAssertTrue(v.tensor.loadsConcurrently)
                        deferredWeights += 1
                    }
                    XCTAssertEqual(v.tensor.shape, w.tensor.shape, "\(name): \(a.name)/\(v.role)")
                    XCTAssertEqual(try v.tensor.materialized().bytes, w.tensor.bytes, "\(name): \(a.name)/\(v.role)")
                }
            }
            let expected = try GraphDefWriter.serialize(try FoldBatchNorm().apply(to: eager).model, file: "eager.pb")
            let folded = try FoldBatchNorm(keep: [], checksDeferredKernelsWhenWritten: true).apply(to: deferred).model
            let out = dir.appendingPathComponent("\(name).pb")
            try Checkpoint.write(folded, to: out.path)
            XCTAssertTrue([UInt8](try Data(contentsOf: out)) == expected, name)
        }
        XCTAssertGreaterThan(deferredWeights, 20)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    /// A folded kernel found to hold NaN while it is written stops the write (nothing left behind),
    /// with the error the pipeline plans again on.
    func testADeferredKernelHoldingNaNStopsTheWrite() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try read("conv_bias_bn")
        let c = try XCTUnwrap(model.nodes.firstIndex { $0.weight(.kernel) != nil })
        var kernel = try XCTUnwrap(model.nodes[c].weight(.kernel))
        var values = kernel.tensor.floats()
        values[2] = .nan
        kernel.tensor = Tensor(shape: kernel.tensor.shape, floats: values)
        kernel.isModified = true
        model.nodes[c].setWeight(kernel)
        let input = dir.appendingPathComponent("nan.pb").path
        try Checkpoint.write(model, to: input)

        let deferred = try GraphDefReader.read(input, deferringFrom: 0)
        let folded = try FoldBatchNorm(keep: [], checksDeferredKernelsWhenWritten: true).apply(to: deferred).model
        let out = dir.appendingPathComponent("out.pb").path
        XCTAssertThrowsError(try Checkpoint.write(folded, to: out)) { error in
            guard case FoldError.nonFiniteKernel? = error as? FoldError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["nan.pb"])
    }

    /// Removes the BN by hand, rewires its reader, changes the conv kernel and adds a bias the conv
    /// did not have: the written graph reads back with exactly those changes, the BN's Consts,
    /// Identities and control inputs are gone, and no input dangles.
    func testHandEditedModelWritesBack() throws {
        var model = try read("conv_nobias_bn")
        let b = try XCTUnwrap(model.batchNormIndices.first)
        let (x, u) = (model.nodes[b].inputs[0], model.nodes[b].outputs[0])
        let bnRecord = try XCTUnwrap(model.nodes[b].source as? GraphDefNodeRecord)
        model.nodes.remove(at: b)
        for i in model.nodes.indices { model.nodes[i].inputs = model.nodes[i].inputs.map { $0 == u ? x : $0 } }
        let c = try XCTUnwrap(model.nodeIndex(named: "conv_nobias_bn/conv/Conv2D"))
        var kernel = try XCTUnwrap(model.nodes[c].weight(.kernel))
        let scaled = kernel.tensor.doubles().map { $0 * -1.5 }
        kernel.tensor = Tensor(shape: kernel.tensor.shape, doubles: scaled, dtype: .float32)
        kernel.isModified = true
        model.nodes[c].setWeight(kernel)
        let biasValues: [Float] = [0.25, -0.5, 1.0, 2.0]
        model.nodes[c].setWeight(Weight(role: .bias, tensor: Tensor(shape: [4], floats: biasValues), storageKey: "", isModified: true))
        guard case .conv(var conv) = model.nodes[c].op else { return XCTFail() }
        XCTAssertFalse(conv.useBias)
        conv.useBias = true
        model.nodes[c].op = .conv(conv)

        let bytes = try GraphDefWriter.serialize(model, file: "edited.pb")
        try assertNoDanglingInputs(bytes)
        let back = try GraphDefReader.read(bytes: bytes, file: "edited.pb")
        XCTAssertEqual(back.batchNormIndices, [])
        let conv2 = try XCTUnwrap(back.node(named: "conv_nobias_bn/conv/Conv2D"))
        XCTAssertEqual(conv2.op, .conv(conv))
        XCTAssertEqual(conv2.weight(.kernel)?.tensor.shape, kernel.tensor.shape)
        XCTAssertEqual(conv2.weight(.kernel)?.tensor, kernel.tensor)
        XCTAssertEqual(conv2.weight(.bias)?.tensor.shape, [4])
        XCTAssertEqual(conv2.weight(.bias)?.tensor.floats(), biasValues)
        XCTAssertEqual(conv2.weight(.bias)?.storageKey, "conv_nobias_bn/conv/Conv2D/bnconv_bias")
        XCTAssertEqual(conv2.outputs, ["conv_nobias_bn/conv/Conv2D/bnconv_bias_add"])
        let relu = try XCTUnwrap(back.nodes.first { $0.opName == "Activation" })
        XCTAssertEqual(relu.inputs, conv2.outputs)
        let names = Set(try ProtobufGraphDef(bytes: bytes, file: "edited.pb").nodeDefs().map(\.name))
        for gone in bnRecord.nodeDefNames + bnRecord.auxiliaryNames {
            XCTAssertFalse(names.contains(gone), "\(gone) should be gone")
        }
        XCTAssertEqual(names.count, try TensorFlowFixtures.facts("conv_nobias_bn").node_count - 9 + 2)
    }

    /// A new bias never takes a name that the graph already uses.
    func testNewBiasNamesAvoidExistingNodes() throws {
        let message = try ProtobufGraphDef(bytes: try TensorFlowFixtures.bytes("dense_nobias_bn"), file: "g")
        let taken = "dense_nobias_bn/fc/MatMul/bnconv_bias"
        message.append(ProtobufNodeDef(name: taken, op: "NoOp", inputs: [], attributes: []))
        var model = try GraphDefReader.read(bytes: message.packed(), file: "g.pb")
        model = try FoldBatchNorm().apply(to: model).model
        let bytes = try GraphDefWriter.serialize(model, file: "g.pb")
        try assertNoDanglingInputs(bytes)
        let dense = try XCTUnwrap(try GraphDefReader.read(bytes: bytes, file: "g.pb").nodes.first { $0.opName == "Dense" })
        XCTAssertEqual(dense.weight(.bias)?.storageKey, taken + "_1")
    }

    /// The fold pass's output writes back for every fixture: the folded BNs are gone from the
    /// graph, kept ones stay, and nothing dangles. Set BNCONV_GRAPHDEF_OUT to keep the files
    /// (tools/interop/check_graphdef.py runs them in TensorFlow).
    func testFoldedFixturesWriteBack() throws {
        let keep = ProcessInfo.processInfo.environment["BNCONV_GRAPHDEF_OUT"]
        let dir = try keep.map { URL(fileURLWithPath: $0) } ?? FixturePaths.scratchDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(at: dir) } }
        var foldedTotal = 0
        for name in try TensorFlowFixtures.cases() {
            let model = try read(name)
            let result = try FoldBatchNorm().apply(to: model)
            let folded = result.decisions.filter { $0.target != nil }.count
            foldedTotal += folded
            let out = dir.appendingPathComponent("\(name).folded.pb")
            try GraphDefWriter.write(result.model, to: out.path)
            let bytes = [UInt8](try Data(contentsOf: out))
            try assertNoDanglingInputs(bytes)
            let back = try GraphDefReader.read(out.path)
            XCTAssertEqual(back.batchNormIndices.count, model.batchNormIndices.count - folded, name)
            XCTAssertEqual(back.outputs, [try TensorFlowFixtures.facts(name).outputNode], name)
        }
        XCTAssertGreaterThanOrEqual(foldedTotal, 12)
    }

    /// A model not read from a GraphDef, a node a pass created, and an unwritable target are
    /// refused with one clear line, and nothing is left behind.
    func testRefusals() throws {
        var model = try read("conv_bias_bn")
        var foreign = model
        foreign.source = nil
        XCTAssertEqual(TensorFlowFixtures.checkpointError { _ = try GraphDefWriter.serialize(foreign, file: "o.pb") }?.kind, .unsupported)
        model.nodes.append(Node(name: "new", op: .identity, inputs: ["Identity"], outputs: ["new"]))
        let created = TensorFlowFixtures.checkpointError { _ = try GraphDefWriter.serialize(model, file: "o.pb") }
        XCTAssertEqual(created?.place, "new")
        XCTAssertEqual(created?.kind, .unsupported)
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("missing/out.pb").path
        let failed = TensorFlowFixtures.checkpointError { try GraphDefWriter.write(try self.read("conv_bias_bn"), to: target) }
        XCTAssertEqual(failed?.kind, .writeFailed)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    /// A Const two nodes read (a tf.layers BN's moving mean, read by both branches of its tf.cond)
    /// changed alike in both is written once with the new values; changed differently, the write
    /// is refused naming the node and the Const.
    func testAConstReadByTwoNodesIsWrittenOnceOrRefusedWhenTheyDisagree() throws {
        let model = try read("cond_training_flag")
        func edited(_ values: [String: [Double]]) throws -> Model {
            var model = model
            for (name, doubles) in values {
                let i = try XCTUnwrap(model.nodes.firstIndex { $0.name == name })
                var w = try XCTUnwrap(model.nodes[i].weight(.movingMean))
                XCTAssertTrue(w.isShared)
                w.tensor = Tensor(shape: w.tensor.shape, doubles: doubles, dtype: w.tensor.dtype)
                w.isModified = true
                model.nodes[i].setWeight(w)
            }
            return model
        }
        let new = [0.5, -0.25, 1.5, 2]
        let alike = try edited(["bn1/cond/FusedBatchNormV3": new, "bn1/cond/FusedBatchNormV3_1": new])
        let back = try GraphDefReader.read(bytes: try GraphDefWriter.serialize(alike, file: "o.pb"), file: "o.pb")
        for name in ["bn1/cond/FusedBatchNormV3", "bn1/cond/FusedBatchNormV3_1"] {
            XCTAssertEqual(back.node(named: name)?.weight(.movingMean)?.tensor.doubles(), new, name)
        }
        let apart = try edited(["bn1/cond/FusedBatchNormV3": new, "bn1/cond/FusedBatchNormV3_1": new.map { $0 + 1 }])
        let error = TensorFlowFixtures.checkpointError { _ = try GraphDefWriter.serialize(apart, file: "o.pb") }
        XCTAssertEqual(error?.kind, .unsupported)
        XCTAssertEqual(error?.place, "bn1/cond/FusedBatchNormV3_1")
        XCTAssertTrue(error?.problem.contains("stored in 'bn1/moving_mean', which another node reading it changed to other values") ?? false,
                      error?.description ?? "")
    }

    /// Removing a node whose output another NodeDef still reads is refused (nothing dangles).
    func testRemovingAStillReadNodeIsRefused() throws {
        var model = try read("conv_bias_bn")
        model.nodes.removeAll { $0.opName == "Conv2D" }
        let error = TensorFlowFixtures.checkpointError { _ = try GraphDefWriter.serialize(model, file: "o.pb") }
        XCTAssertEqual(error?.kind, .writeFailed)
        XCTAssertTrue(error?.problem.contains("no longer computes") ?? false, error?.description ?? "")
    }

    /// Timing of read, fold and write on a large graph named by BNCONV_GRAPHDEF_BENCH (skipped
    /// otherwise); the folded graph goes to `<path>.folded.pb` for tools/interop/check_graphdef.py.
    func testLargeGraphTiming() throws {
        guard let path = ProcessInfo.processInfo.environment["BNCONV_GRAPHDEF_BENCH"] else {
            throw XCTSkip("set BNCONV_GRAPHDEF_BENCH to a GraphDef to time")
        }
        let clock = ContinuousClock()
        var model: Model!
        let tRead = try clock.measure { model = try GraphDefReader.read(path) }
        var folded: FoldBatchNorm.Result!
        let tFold = try clock.measure { folded = try FoldBatchNorm().apply(to: model) }
        let tWrite = try clock.measure { try GraphDefWriter.write(folded.model, to: path + ".folded.pb") }
        let count = folded.decisions.filter { $0.target != nil }.count
        print("graphdef bench: \(model.nodes.count) nodes, \(model.batchNormIndices.count) BN, \(count) folded; "
              + "read \(tRead), fold \(tFold), write \(tWrite)")
        XCTAssertEqual(try GraphDefReader.read(path + ".folded.pb").batchNormIndices.count, model.batchNormIndices.count - count)
    }

    /// Edits a GraphDef cannot hold are refused rather than written wrong: a changed op attribute
    /// other than the layout (strides) and a kernel whose layout changed (hwio -> oihw).
    /// (A layout conversion is written: GraphDefLayoutWriteTests.)
    func testLayoutChangesAreRefused() throws {
        let model = try read("conv_bias_bn")
        let c = try XCTUnwrap(model.nodeIndex(named: "conv_bias_bn/conv/Conv2D"))
        var attributes = model
        guard case .conv(var conv) = attributes.nodes[c].op else { return XCTFail() }
        conv.strides = conv.strides.map { $0 + 1 }
        attributes.nodes[c].op = .conv(conv)
        let e1 = TensorFlowFixtures.checkpointError { _ = try GraphDefWriter.serialize(attributes, file: "o.pb") }
        XCTAssertEqual(e1?.kind, .unsupported)
        XCTAssertEqual(e1?.place, "conv_bias_bn/conv/Conv2D")
        var layout = model
        var kernel = try XCTUnwrap(layout.nodes[c].weight(.kernel))
        kernel.tensor = try kernel.tensor.transposed([3, 2, 0, 1])
        kernel.layout = .oihw
        kernel.isModified = true
        layout.nodes[c].setWeight(kernel)
        let e2 = TensorFlowFixtures.checkpointError { _ = try GraphDefWriter.serialize(layout, file: "o.pb") }
        XCTAssertEqual(e2?.kind, .unsupported)
        XCTAssertTrue(e2?.problem.contains("oihw") ?? false, e2?.description ?? "")
    }

    /// `--assume-inference` on a training-mode FusedBatchNorm that is kept (here by `keep`):
    /// the written NodeDef says `is_training: false`, whether the attribute was missing (TF's
    /// default, fused_bn_training_default) or present (set on conv_bias_bn's BN, with an unknown
    /// field added to the NodeDef); its other attributes, in order, and its unknown field stay; every
    /// other NodeDef is written back byte for byte; and the engine computes the same as on the
    /// inference-mode model. (TensorFlow runs the result: run_interop.py's assume-inference rows.)
    func testAssumedInferenceBatchNormKeptWritesIsTrainingFalse() throws {
        let unknownField: [UInt8] = [0xB8, 0x06, 0x2A]  // field 103, varint 42: not in NodeDef
        let explicit = try TensorFlowFixtures.withNode("conv_bias_bn/bn/FusedBatchNormV3",
                                                       of: TensorFlowFixtures.bytes("conv_bias_bn"),
                                                       setTrue: "is_training", appending: unknownField)
        for (label, bytes) in [("attribute missing", try TensorFlowFixtures.bytes("fused_bn_training_default")),
                               ("attribute present", explicit)] {
            let model = try GraphDefReader.read(bytes: bytes, file: "g.pb")
            let b = try XCTUnwrap(model.batchNormIndices.first)
            let bnName = model.nodes[b].name
            guard case .batchNorm(let readBN) = model.nodes[b].op else { return XCTFail(label) }
            XCTAssertTrue(readBN.training, label)
            let (assumed, rewritten) = AssumeInference.apply(to: model)
            XCTAssertEqual(rewritten, [bnName], label)
            let result = try FoldBatchNorm(keep: [bnName]).apply(to: assumed)
            XCTAssertEqual(result.decisions.map(\.folds), [false], label)

            let written = try GraphDefWriter.serialize(result.model, file: "out.pb")
            let before = try ProtobufGraphDef(bytes: bytes, file: "g.pb").nodeDefs()
            let after = try ProtobufGraphDef(bytes: written, file: "out.pb").nodeDefs()
            XCTAssertEqual(after.map(\.name), before.map(\.name), label)
            for (a, o) in zip(after, before) {
                guard a.op.hasPrefix("FusedBatchNorm") else {
                    XCTAssertEqual(a, o, "\(label): \(a.name) changed")
                    continue
                }
                XCTAssertEqual(a.attribute("is_training"), .bool(false), label)
                let others = { (n: ProtobufNodeDef) in n.attributes.filter { $0.key != "is_training" } }
                XCTAssertEqual(others(a).map(\.key), others(o).map(\.key), label)
                XCTAssertEqual(others(a).map(\.value), others(o).map(\.value), label)
                XCTAssertEqual(a.attributes.map(\.key).firstIndex(of: "is_training"),
                               o.attributes.map(\.key).firstIndex(of: "is_training") ?? o.attributes.count, label)
            }
            XCTAssertEqual(TensorFlowFixtures.occurrences(of: unknownField, in: written),
                           TensorFlowFixtures.occurrences(of: unknownField, in: bytes), label)

            let back = try GraphDefReader.read(bytes: written, file: "out.pb")
            guard case .batchNorm(let backBN)? = back.node(named: bnName)?.op else { return XCTFail(label) }
            XCTAssertFalse(backBN.training, label)
            let input = try NumPyFile.read(FixturePaths.url("tensorflow/conv_bias_bn/input.npy").path)
            let reference = try ModelRunner(model: assumed).run([input])
            let candidate = try ModelRunner(model: back).run([input])
            XCTAssertEqual(candidate[0].shape, reference[0].shape, label)
            XCTAssertLessThanOrEqual(relativeError(candidate[0].floats(), reference[0].floats()), 1e-6, label)
        }
    }

    /// A renamed node is not a removed one: its NodeDefs stay.
    func testRenamedNodeIsKept() throws {
        var model = try read("conv_bias_bn")
        let original = try TensorFlowFixtures.bytes("conv_bias_bn")
        let c = try XCTUnwrap(model.nodeIndex(named: "conv_bias_bn/conv/Conv2D"))
        model.nodes[c].name = "renamed"
        XCTAssertTrue(try GraphDefWriter.serialize(model, file: "o.pb") == original)
    }
}
