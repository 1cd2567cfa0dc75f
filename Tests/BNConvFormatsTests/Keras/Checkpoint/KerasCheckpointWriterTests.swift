import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Writing Keras TF-format weights: written back in place of the one read, only changed variables
/// are new and every other tensor (optimizer slots, object graph) is stored byte for byte; written
/// afresh (from an `.h5`, after a fold) the keys and objects are the ones tf_keras makes for the
/// same model; written as a Keras 2 `.h5`, the model reads back the same. tools/interop/keras_checkpoints.py
/// has tf_keras load each of these.
final class KerasCheckpointWriterTests: XCTestCase {
    /// The test's scratch folder.
    private var scratch: URL!

    /// Makes the scratch folder.
    override func setUpWithError() throws {
        scratch = try FixturePaths.scratchDirectory()
    }

    /// Removes the scratch folder.
    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// A fixture path.
    private func path(_ relative: String) -> String { FixturePaths.url(relative).path }
    /// The checkpoint prefix of a case.
    private func prefix(_ name: String) -> String { path("tf_checkpoint/\(name)/weights.ckpt") }
    /// The `model.to_json()` file of a case.
    private func config(_ name: String) -> String { path("tf_checkpoint/\(name)/model.json") }
    /// A path in the scratch folder.
    private func out(_ name: String) -> String { scratch.appendingPathComponent(name).path }
    /// A file's bytes.
    private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Every weight of `a` equals the same node's same weight of `b`, value for value.
    private func assertSameWeights(_ a: Model, _ b: Model, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.nodes.map(\.name), b.nodes.map(\.name), message, file: file, line: line)
        for (x, y) in zip(a.nodes, b.nodes) {
            XCTAssertEqual(x.weights.map(\.role), y.weights.map(\.role), "\(message): \(x.name)", file: file, line: line)
            for (wx, wy) in zip(x.weights, y.weights) {
                XCTAssertEqual(try wx.tensor.materialized().bytes, try wy.tensor.materialized().bytes, "\(message): \(x.name) \(wx.role)",
                               file: file, line: line)
            }
        }
    }

    /// Read and written with nothing changed: the index and data file TensorFlow wrote, byte for
    /// byte, and the `checkpoint` state file naming the new prefix; no architecture written.
    func testUnchangedCheckpointIsWrittenByteForByte() throws {
        for name in KerasCheckpointReaderTests.cases {
            let model = try Checkpoint.read(prefix(name), config: config(name))
            let target = out("\(name)/copy.ckpt")
            try FileManager.default.createDirectory(atPath: out(name), withIntermediateDirectories: true)
            try Checkpoint.write(model, to: target)
            XCTAssertEqual(try bytes(target + ".index"), try bytes(prefix(name) + ".index"), name)
            XCTAssertEqual(try bytes(target + ".data-00000-of-00001"), try bytes(prefix(name) + ".data-00000-of-00001"), name)
            XCTAssertEqual(try String(contentsOfFile: out("\(name)/checkpoint"), encoding: .utf8),
                           "model_checkpoint_path: \"copy.ckpt\"\nall_model_checkpoint_paths: \"copy.ckpt\"\n")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out(name)).sorted(),
                           ["checkpoint", "copy.ckpt.data-00000-of-00001", "copy.ckpt.index"], name)
        }
    }

    /// A moving statistic changed (as recalibration changes them): that tensor is new, every other
    /// one, the optimizer's slots and the object graph among them, is stored as it was.
    func testWrittenBackOnlyChangedVariablesAreNew() throws {
        var model = try Checkpoint.read(prefix("keras_weights"), config: config("keras_weights"))
        let bn = try XCTUnwrap(model.nodeIndex(named: "bn"))
        var mean = try XCTUnwrap(model.nodes[bn].weight(.movingMean))
        mean.tensor = Tensor(shape: mean.tensor.shape, floats: (0..<mean.tensor.count).map { Float($0) * 0.25 - 0.5 })
        mean.isModified = true
        model.nodes[bn].setWeight(mean)
        let target = out("fixed.ckpt")
        try Checkpoint.write(model, to: target)
        let before = try TensorBundle(prefix: prefix("keras_weights")), after = try TensorBundle(prefix: target)
        XCTAssertEqual(before.keys, after.keys)
        XCTAssertEqual(before.keysInStorageOrder, after.keysInStorageOrder)
        XCTAssertEqual(before.keys.filter { $0.hasPrefix("optimizer/") }.count, 14)
        for key in before.keys {
            if key == mean.storageKey {
                XCTAssertEqual(try after.tensor(key).materialized().floats(), mean.tensor.floats())
            } else {
                XCTAssertEqual(try after.storedBytes(key), try before.storedBytes(key), key)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out("fixed.json")), "the architecture came from --config unchanged")
        let back = try Checkpoint.read(target, config: config("keras_weights"))
        XCTAssertEqual(try XCTUnwrap(back.node(named: "bn")?.weight(.movingMean)).tensor.floats(), mean.tensor.floats())
    }

    /// From tf_keras's own `.h5` of the same model: the keys are exactly the ones tf_keras's
    /// `save_weights` made (facts.json), the root's layer children the same names, the
    /// architecture written beside; read back, the same weights; the object graph encodes with
    /// every object holding its values flagged.
    func testFromH5TheKeysAreTfKerasOwn() throws {
        for name in KerasCheckpointReaderTests.cases {
            let h5 = try Checkpoint.read(path("tf_checkpoint/\(name)/model.h5"))
            let target = out("\(name).ckpt")
            try Checkpoint.write(h5, to: target, as: .tensorFlowCheckpoint)
            let facts = try fixtureJSON("tf_checkpoint/\(name)/facts.json")
            let expectedKeys = try XCTUnwrap(facts["weights"] as? [[String: Any]]).compactMap { $0["checkpoint_key"] as? String }
            let written = try TensorBundle(prefix: target)
            XCTAssertEqual(Set(written.keys), Set(expectedKeys + ["_CHECKPOINTABLE_OBJECT_GRAPH"]), name)
            let graph = try ProtobufTrackableObjectGraph(bytes: try XCTUnwrap(written.strings("_CHECKPOINTABLE_OBJECT_GRAPH").first), file: target)
            let rootChildren = try XCTUnwrap((facts["checkpoint_object_graph"] as? [String: Any])?["root_children"] as? [String: Int])
            XCTAssertEqual(graph.objects[0].children.map(\.name), rootChildren.keys.filter { $0.hasPrefix("layer") }.sorted { a, b in
                rootChildren[a]! != rootChildren[b]! ? rootChildren[a]! < rootChildren[b]! : a.hasPrefix("layer_with_weights")
            }, name)
            for object in graph.objects {
                for attribute in object.attributes {
                    XCTAssertTrue(expectedKeys.contains(attribute.checkpointKey), attribute.checkpointKey)
                }
                XCTAssertNotNil(object.hasCheckpointValues)
            }
            // The architecture beside it: the .h5's model_config.
            XCTAssertTrue(FileManager.default.fileExists(atPath: out("\(name).json")), name)
            let back = try Checkpoint.read(target, config: out("\(name).json"))
            try assertSameWeights(back, h5, name)
            let y = try ModelRunner(model: back).run([try fixtureArray("tf_checkpoint/\(name)/input.npy")])[0]
            assertClose(y, try fixtureArray("tf_checkpoint/\(name)/output.npy"), tolerance: 1e-5, name)
        }
    }

    /// Folded and written as a checkpoint: a new layout without the BatchNorms (and without the
    /// optimizer, whose slots follow the old variables), the folded architecture beside it; read
    /// back with it, the same answers.
    func testFoldedCheckpointHasItsArchitectureBeside() throws {
        for name in KerasCheckpointReaderTests.cases {
            let model = try Checkpoint.read(prefix(name), config: config(name))
            let folded = try FoldBatchNorm().apply(to: model)
            XCTAssertTrue(folded.decisions.allSatisfy { $0.target != nil }, name)
            let target = out("\(name).folded.ckpt")
            try Checkpoint.write(folded.model, to: target)
            let written = try TensorBundle(prefix: target)
            XCTAssertFalse(written.keys.contains { $0.hasPrefix("optimizer/") }, name)
            let back = try Checkpoint.read(target, config: out("\(name).folded.json"))
            XCTAssertTrue(back.batchNormIndices.isEmpty, name)
            try assertSameWeights(back, folded.model, name)
            let y = try ModelRunner(model: back).run([try fixtureArray("tf_checkpoint/\(name)/input.npy")])[0]
            assertClose(y, try fixtureArray("tf_checkpoint/\(name)/output.npy"), tolerance: 1e-5, name)
            // The original architecture no longer matches: refused, not loaded shifted.
            XCTAssertThrowsError(try Checkpoint.read(target, config: config(name)), name)
        }
    }

    /// tf_keras models of other shapes (a Sequential, a nested model, branches that a fold
    /// renumbers, a Normalization, DepthwiseConv2D, Conv2DTranspose), folded or not, written as
    /// checkpoints and read back with the architecture written beside: the same answers.
    func testOtherModelsWrittenAndReadBack() throws {
        for name in ["sequential", "nested", "mini_resnet", "add_concat", "layers_zoo", "depthwise_bn", "conv2d_transpose_bn"] {
            let model = try Checkpoint.read(path("keras/\(name)/keras2.h5"))
            let x = try fixtureArray("keras/\(name)/input.npy"), expected = try ModelRunner(model: model).run([x])[0]
            for fold in [false, true] {
                let source = fold ? try FoldBatchNorm().apply(to: model).model : model
                let target = out("\(name)\(fold ? ".folded" : "").ckpt")
                try Checkpoint.write(source, to: target, as: .tensorFlowCheckpoint)
                let back = try Checkpoint.read(target, config: out("\(name)\(fold ? ".folded" : "").json"))
                try assertSameWeights(back, source, target)
                assertClose(try ModelRunner(model: back).run([x])[0], expected, tolerance: 1e-5, target)
            }
        }
    }

    /// As a Keras 2 HDF5 model (an `.h5` name, or the explicit target): a full model with
    /// `keras_version`, read back with no config, the same weights; a fold written to `.h5` too.
    func testWrittenAsKeras2H5() throws {
        for name in KerasCheckpointReaderTests.cases {
            let model = try Checkpoint.read(prefix(name), config: config(name))
            for (target, write) in [(out("\(name).h5"), { try Checkpoint.write(model, to: self.out("\(name).h5")) }),
                                    (out("\(name).as.h5"), { try Checkpoint.write(model, to: self.out("\(name).as.h5"), as: .keras2H5) })] {
                try write()
                let back = try Checkpoint.read(target)
                XCTAssertEqual(back.format, .keras2H5, target)
                XCTAssertEqual((back.source as? KerasModelRecord)?.kerasVersion, "2.21.0", target)
                try assertSameWeights(back, model, target)
            }
            let folded = try FoldBatchNorm().apply(to: model).model
            try Checkpoint.write(folded, to: out("\(name).folded.h5"))
            let back = try Checkpoint.read(out("\(name).folded.h5"))
            XCTAssertTrue(back.batchNormIndices.isEmpty)
            let y = try ModelRunner(model: back).run([try fixtureArray("tf_checkpoint/\(name)/input.npy")])[0]
            assertClose(y, try fixtureArray("tf_checkpoint/\(name)/output.npy"), tolerance: 1e-5, name)
        }
    }

    /// What cannot be written says why and leaves nothing: a `.weights.h5` name (tf_keras reads it
    /// as a Keras 3 store), a Keras 3 model as TF-format weights, a GraphDef as either.
    func testRefusedTargetsLeaveNothing() throws {
        let model = try Checkpoint.read(prefix("keras_weights"), config: config("keras_weights"))
        let refusal = TensorFlowFixtures.checkpointError { try Checkpoint.write(model, to: self.out("x.weights.h5")) }
        XCTAssertTrue(refusal?.problem.contains("Keras 3 weights store") ?? false, "\(refusal.map { "\($0)" } ?? "")")
        let keras3 = try Checkpoint.read(path("keras/mini_resnet/keras3.keras"))
        let dialect = TensorFlowFixtures.checkpointError { try Checkpoint.write(keras3, to: self.out("k3.ckpt"), as: .tensorFlowCheckpoint) }
        XCTAssertTrue(dialect?.problem.contains("Keras 3") ?? false, "\(dialect.map { "\($0)" } ?? "")")
        let graph = try Checkpoint.read(path("tf_checkpoint/slim_conv/model.ckpt"))
        XCTAssertThrowsError(try Checkpoint.write(graph, to: out("g.ckpt"), as: .tensorFlowCheckpoint))
        XCTAssertThrowsError(try Checkpoint.write(graph, to: out("g.h5"), as: .keras2H5))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [])
    }

    /// Which Keras target an output name asks for.
    func testTargetByOutputName() {
        XCTAssertEqual(KerasConversionTarget.forOutput("a/model.h5"), .keras2H5)
        XCTAssertEqual(KerasConversionTarget.forOutput("model.HDF5"), .keras2H5)
        XCTAssertEqual(KerasConversionTarget.forOutput("weights.ckpt"), .tensorFlowCheckpoint)
        XCTAssertEqual(KerasConversionTarget.forOutput("out/weights.ckpt.index"), .tensorFlowCheckpoint)
        XCTAssertEqual(KerasConversionTarget.forOutput("model.ckpt-1200"), .tensorFlowCheckpoint)
        XCTAssertNil(KerasConversionTarget.forOutput("model.ckpt-x"))
        XCTAssertNil(KerasConversionTarget.forOutput("model.onnx"))
        XCTAssertNil(KerasConversionTarget.forOutput("weights"))
    }
}
