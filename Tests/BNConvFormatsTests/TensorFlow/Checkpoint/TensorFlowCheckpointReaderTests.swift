import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// TensorFlow checkpoints (TF1 Saver + .meta) and SavedModels (TF1 and TF2) written by TensorFlow
/// 2.21 (tools/fixtures/make_checkpoint_fixtures.py), read as frozen graphs and run on the engine
/// against TensorFlow's own outputs.
final class TensorFlowCheckpointReaderTests: XCTestCase {
    /// Every fixture checkpoint or SavedModel that is an inference graph, with its input and TensorFlow's output.
    private static let cases: [(name: String, path: String, folder: String)] = [
        ("slim_conv", "tf_checkpoint/slim_conv/model.ckpt", "tf_checkpoint/slim_conv"),
        ("layers_bn", "tf_checkpoint/layers_bn/model.ckpt", "tf_checkpoint/layers_bn"),
        ("stale_stats", "tf_checkpoint/stale_stats/model.ckpt", "tf_checkpoint/stale_stats"),
        ("resource_vars", "tf_checkpoint/resource_vars/model.ckpt", "tf_checkpoint/resource_vars"),
        ("partitioned", "tf_checkpoint/partitioned/model.ckpt", "tf_checkpoint/partitioned"),
        ("tf1_simple_save", "tf_savedmodel/tf1_simple_save/model", "tf_savedmodel/tf1_simple_save"),
        ("tf1_resource_builder", "tf_savedmodel/tf1_resource_builder/model", "tf_savedmodel/tf1_resource_builder"),
        ("tf_keras_save", "tf_savedmodel/tf_keras_save/model", "tf_savedmodel/tf_keras_save"),
        ("keras3_export", "tf_savedmodel/keras3_export/model", "tf_savedmodel/keras3_export"),
        ("tf_module", "tf_savedmodel/tf_module/model", "tf_savedmodel/tf_module"),
    ]

    private func path(_ relative: String) -> String { FixturePaths.url(relative).path }

    private func run(_ model: Model, _ input: Tensor) throws -> Tensor {
        try ModelRunner(model: model).run([input])[0]
    }

    private func freezing(_ model: Model) throws -> FreezeReport {
        try XCTUnwrap((model.source as? GraphDefSource)?.freezing)
    }

    /// Each one reads (through the one entry point, by prefix or directory), keeps its BatchNorms
    /// as BatchNorm nodes, and answers as TensorFlow did.
    func testEveryCheckpointAndSavedModelAnswersAsTensorFlow() throws {
        for c in Self.cases {
            let model = try Checkpoint.read(path(c.path))
            try model.validate()
            let report = try freezing(model)
            XCTAssertGreaterThan(report.variableCount, 0, c.name)
            XCTAssertTrue(report.batchStatistics.isEmpty, "\(c.name): \(report.batchStatistics)")
            XCTAssertFalse(model.batchNormIndices.isEmpty, "\(c.name): no BatchNorm recognized")
            let y = try run(model, try fixtureArray("\(c.folder)/input.npy"))
            assertClose(y, try fixtureArray("\(c.folder)/output.npy"), tolerance: 1e-5, c.name)
        }
    }

    /// The BatchNorms found in each checkpoint are the ones TensorFlow's graph holds (facts.json),
    /// with their variables' checkpoint values.
    func testBatchNormsAndTheirVariablesMatchTheFacts() throws {
        for name in ["slim_conv", "layers_bn", "resource_vars", "stale_stats"] {
            let facts = try fixtureJSON("tf_checkpoint/\(name)/facts.json")
            let expected = try XCTUnwrap(facts["batch_norms"] as? [[String: Any]], name)
            let model = try Checkpoint.read(path("tf_checkpoint/\(name)/model.ckpt"))
            XCTAssertEqual(model.batchNormIndices.count, expected.count, name)
            let keys = try freezing(model).variableKeys
            for bn in expected {
                guard let mean = bn["mean"] as? String else { continue }
                let node = try XCTUnwrap(model.batchNormIndices.map { model.nodes[$0] }.first { n in
                    n.weight(.movingMean).map { keys[$0.storageKey] == mean } ?? false
                }, "\(name): no BN reads \(mean)")
                XCTAssertEqual(keys[node.weight(.movingVariance)!.storageKey], bn["variance"] as? String, name)
                if let gamma = bn["gamma"] as? String { XCTAssertEqual(keys[node.weight(.gamma)!.storageKey], gamma, name) }
                if let eps = bn["epsilon"] as? Double, case .batchNorm(let b) = node.op {
                    XCTAssertEqual(b.epsilon, Double(Float(eps)), accuracy: 1e-9, name)
                }
            }
        }
    }

    /// The R2RT moments MLP's training graph: both BNs are found normalizing by batch moments, with
    /// the pop_mean / pop_var their assign ops update; --assume-inference rewires them and answers as
    /// TensorFlow's inference graph does; so does the inference graph given with --meta.
    func testTrainingGraphBatchMomentsFoundAndRewired() throws {
        let prefix = path("tf_checkpoint/moments_mlp/model.ckpt")
        let x = try fixtureArray("tf_checkpoint/moments_mlp/input.npy")
        let expected = try fixtureArray("tf_checkpoint/moments_mlp/output_infer.npy")
        let training = try Checkpoint.read(prefix)
        let found = try freezing(training).batchStatistics
        XCTAssertEqual(found.count, 2, "\(found)")
        for layer in ["layer1", "layer2"] {
            XCTAssertTrue(found.contains { $0.contains("'\(layer)/batchnorm'") && $0.contains("\(layer)/pop_mean") && $0.contains("\(layer)/pop_var") },
                          "\(found)")
        }
        // As read, it normalizes by the batch, as TensorFlow's training graph did.
        assertClose(try run(training, x), try fixtureArray("tf_checkpoint/moments_mlp/output_train_graph.npy"), tolerance: 1e-5, "training graph")

        var options = ReadOptions()
        options.tensorFlow.assumeInference = true
        let assumed = try Checkpoint.read(prefix, options: options)
        XCTAssertEqual(try freezing(assumed).rewired.count, 2)
        XCTAssertTrue(try freezing(assumed).batchStatistics.isEmpty)
        XCTAssertEqual(assumed.batchNormIndices.count, 2, "the rewired chains are BatchNorms with moving statistics")
        assertClose(try run(assumed, x), expected, tolerance: 1e-5, "--assume-inference")

        var metaOptions = ReadOptions()
        metaOptions.tensorFlow.metaGraph = path("tf_checkpoint/moments_mlp/infer.meta")
        assertClose(try run(try Checkpoint.read(prefix, options: metaOptions), x), expected, tolerance: 1e-5, "--meta infer.meta")
    }

    /// tf.layers' `training` flag as a PlaceholderWithDefault(False): the tf.cond Switch/Merge pairs
    /// resolve to the inference branch; the training branch's BN is gone.
    func testTrainingFlagConditionResolvedToItsDefault() throws {
        var options = ReadOptions()
        options.tensorFlow.metaGraph = path("tf_checkpoint/layers_bn/training_placeholder.meta")
        let model = try Checkpoint.read(path("tf_checkpoint/layers_bn/model.ckpt"), options: options)
        let report = try freezing(model)
        XCTAssertGreaterThan(report.resolvedSwitches, 0)
        XCTAssertTrue(report.batchStatistics.isEmpty, "\(report.batchStatistics)")
        XCTAssertEqual(model.batchNormIndices.count, 2)
        XCTAssertFalse(model.nodes.contains { $0.name.hasSuffix("cond/FusedBatchNormV3") }, "the training branch's BN stays out")
        assertClose(try run(model, try fixtureArray("tf_checkpoint/layers_bn/input.npy")),
                    try fixtureArray("tf_checkpoint/layers_bn/output_training_placeholder.npy"), tolerance: 1e-5)
    }

    /// Partitioned variables: each part is its slice of the whole variable, and a part list read
    /// whole (ConcatV2) becomes one constant of the whole variable, so the dense layer is a Dense.
    func testPartitionedVariablesAreReadWhole() throws {
        let model = try Checkpoint.read(path("tf_checkpoint/partitioned/model.ckpt"))
        let keys = try freezing(model).variableKeys
        XCTAssertEqual(Set(keys.values), ["conv/kernel", "fc/kernel", "bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"])
        let dense = try XCTUnwrap(model.nodes.first { if case .dense = $0.op { return true } else { return false } })
        XCTAssertEqual(dense.weight(.kernel)?.tensor.shape, [6, 5])
        let facts = try fixtureJSON("tf_checkpoint/partitioned/facts.json")
        XCTAssertEqual((facts["partitions"] as? [String])?.count, 5)
    }

    /// Outputs: a training graph's loss (which also needs the labels) is not taken for the output;
    /// asked outputs are used as given; an unknown one is an error naming it.
    func testOutputsInferredOrAsAsked() throws {
        let prefix = path("tf_checkpoint/moments_mlp/model.ckpt")
        XCTAssertEqual(try freezing(try Checkpoint.read(prefix)).outputs, ["output"])
        var options = ReadOptions()
        options.tensorFlow.metaGraph = path("tf_checkpoint/moments_mlp/infer.meta")
        options.tensorFlow.outputs = ["layer1/relu"]
        let model = try Checkpoint.read(prefix, options: options)
        XCTAssertEqual(try freezing(model).outputs, ["layer1/relu"])
        options.tensorFlow.outputs = ["no/such/node"]
        XCTAssertThrowsError(try Checkpoint.read(prefix, options: options)) { error in
            XCTAssertTrue("\(error)".contains("no/such/node"), "\(error)")
        }
    }

    /// The frozen graph written as a `.pb`: no variable, resource read or control flow left, every
    /// node the freezing did not touch byte-identical to the .meta's NodeDef, and it reads back and
    /// answers the same.
    func testFrozenGraphIsWrittenWithUntouchedNodesAsRead() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["resource_vars", "layers_bn"] {
            let model = try Checkpoint.read(path("tf_checkpoint/\(name)/model.ckpt"))
            let out = dir.appendingPathComponent("\(name).pb").path
            try Checkpoint.write(model, to: out)
            let frozen = try ProtobufGraphDefFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))), file: out)
            let nodes = try frozen.nodeDefs()
            XCTAssertFalse(nodes.contains { ["VariableV2", "VarHandleOp", "ReadVariableOp", "Switch", "Merge", "Assign"].contains($0.op) }, name)
            let metaBytes = [UInt8](try Data(contentsOf: FixturePaths.url("tf_checkpoint/\(name)/model.ckpt.meta")))
            let meta = try metaBytes.withUnsafeBytes { try ProtobufMetaGraph.parse($0, file: name) }
            let original = try ProtobufGraphDefFile(bytes: meta.graphDef, file: name)
            var messages = [String: [UInt8]]()
            for (k, n) in try original.nodeDefs().enumerated() { messages[n.name] = original.nodeMessage(k) }
            let conv = try XCTUnwrap(nodes.firstIndex { $0.op == "Conv2D" })
            XCTAssertEqual(frozen.nodeMessage(conv), messages[nodes[conv].name], "\(name): an untouched node is copied as read")
            let reread = try GraphDefReader.read(out)
            let x = try fixtureArray("tf_checkpoint/\(name)/input.npy")
            assertClose(try run(reread, x), try fixtureArray("tf_checkpoint/\(name)/output.npy"), tolerance: 1e-5, name)
        }
    }

    /// A TensorFlow checkpoint without its graph, a .meta that is not a MetaGraphDef, a SavedModel
    /// without variables, a graph whose variable the checkpoint lacks: one clear error each.
    func testBadCheckpointsAreRefusedWithTheReason() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        // No .meta beside the prefix.
        let bare = dir.appendingPathComponent("bare.ckpt").path
        for ext in [".index", ".data-00000-of-00001"] {
            try fm.copyItem(atPath: path("tf_checkpoint/slim_conv/model.ckpt") + ext, toPath: bare + ext)
        }
        XCTAssertThrowsError(try Checkpoint.read(bare)) { XCTAssertTrue("\($0)".contains("--meta"), "\($0)") }
        // A .meta that is not a MetaGraphDef.
        var options = ReadOptions()
        options.tensorFlow.metaGraph = path("tf_checkpoint/slim_conv/input.npy")
        XCTAssertThrowsError(try Checkpoint.read(bare, options: options)) { XCTAssertTrue("\($0)".contains("MetaGraphDef"), "\($0)") }
        // Another model's graph: its variables are not in this checkpoint.
        options.tensorFlow.metaGraph = path("tf_checkpoint/layers_bn/model.ckpt.meta")
        XCTAssertThrowsError(try Checkpoint.read(bare, options: options)) { error in
            XCTAssertTrue("\(error)".contains("has no value in the checkpoint"), "\(error)")
            XCTAssertTrue("\(error)".contains("bare.ckpt"), "\(error)")
        }
        // A SavedModel without variables.
        let saved = dir.appendingPathComponent("saved")
        try fm.createDirectory(at: saved, withIntermediateDirectories: true)
        try fm.copyItem(atPath: path("tf_savedmodel/tf1_simple_save/model/saved_model.pb"), toPath: saved.appendingPathComponent("saved_model.pb").path)
        XCTAssertThrowsError(try Checkpoint.read(saved.path)) { error in
            XCTAssertTrue("\(error)".contains("has no variables") && "\(error)".contains("reads variable"), "\(error)")
        }
        // A saved_model.pb that is not one.
        try Data([0x12, 0x05, 1, 2]).write(to: saved.appendingPathComponent("saved_model.pb"))
        XCTAssertThrowsError(try Checkpoint.read(saved.path)) { XCTAssertTrue("\($0)".contains("saved_model.pb"), "\($0)") }
    }

    /// Written back as a checkpoint: only the variables whose values changed are new; every other
    /// tensor is stored byte for byte as before and the .meta is copied. A graph change (a removed
    /// node) is refused: a checkpoint keeps its graph.
    func testCheckpointWrittenBackChangesOnlyChangedVariables() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = path("tf_checkpoint/stale_stats/model.ckpt")
        var model = try Checkpoint.read(source)
        let bnIndex = try XCTUnwrap(model.batchNormIndices.first)
        var mean = try XCTUnwrap(model.nodes[bnIndex].weight(.movingMean))
        mean.tensor = Tensor(shape: mean.tensor.shape, floats: (0..<mean.tensor.count).map { Float($0) * 0.25 })
        mean.isModified = true
        model.nodes[bnIndex].setWeight(mean)
        let out = dir.appendingPathComponent("fixed.ckpt").path
        try Checkpoint.write(model, to: out)
        let before = try TensorBundle(prefix: source), after = try TensorBundle(prefix: out)
        XCTAssertEqual(before.keys, after.keys)
        let key = try freezing(model).variableKeys[mean.storageKey]
        for k in before.keys {
            if k == key {
                XCTAssertEqual(try after.tensor(k).materialized().floats(), mean.tensor.floats())
            } else {
                XCTAssertEqual(try after.storedBytes(k), try before.storedBytes(k), k)
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + ".meta")), try Data(contentsOf: URL(fileURLWithPath: source + ".meta")))

        var changed = try Checkpoint.read(source)
        changed.nodes.removeAll { $0.name == "Relu" }
        XCTAssertThrowsError(try Checkpoint.write(changed, to: dir.appendingPathComponent("bad.ckpt").path)) { error in
            XCTAssertTrue("\(error)".contains("frozen graph"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.ckpt.index").path))
    }
}
