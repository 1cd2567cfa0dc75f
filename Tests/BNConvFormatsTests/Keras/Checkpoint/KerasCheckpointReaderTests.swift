import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvModel
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport

/// Keras TF-format weights written by tf_keras 2.21 `model.save_weights("weights.ckpt")`
/// (tools/fixtures/make_checkpoint_fixtures.py: keras_weights, keras_weights_nested) read with the
/// architecture of `model.to_json()`: run on the engine against tf_keras's outputs, keys mapped
/// through the object graph as facts.json records them, the same weights as the same model's
/// `.h5`, and a config that does not match the checkpoint refused with the key concerned.
final class KerasCheckpointReaderTests: XCTestCase {
    /// The fixture cases.
    static let cases = ["keras_weights", "keras_weights_nested"]

    /// A fixture path.
    private func path(_ relative: String) -> String { FixturePaths.url(relative).path }
    /// The checkpoint prefix of a case.
    private func prefix(_ name: String) -> String { path("tf_checkpoint/\(name)/weights.ckpt") }
    /// The `model.to_json()` file of a case.
    private func config(_ name: String) -> String { path("tf_checkpoint/\(name)/model.json") }

    /// Each reads through the one entry point (by prefix, by its `.index`, by its folder) as Keras
    /// TF-format weights and answers as tf_keras did.
    func testEachCheckpointAnswersAsTfKeras() throws {
        for name in Self.cases {
            for given in [prefix(name), prefix(name) + ".index", path("tf_checkpoint/\(name)")] {
                let model = try Checkpoint.read(given, config: config(name))
                XCTAssertEqual(model.format, .kerasCheckpoint, given)
                XCTAssertEqual((model.source as? KerasModelRecord)?.dialect, .keras2, given)
                XCTAssertEqual((model.source as? KerasModelRecord)?.kerasVersion, "2.21.0", given)
                let y = try ModelRunner(model: model).run([try fixtureArray("tf_checkpoint/\(name)/input.npy")])[0]
                assertClose(y, try fixtureArray("tf_checkpoint/\(name)/output.npy"), tolerance: 1e-5, given)
            }
        }
    }

    /// Every layer weight sits at the checkpoint key tf_keras saved it under (facts.json `weights`,
    /// from TensorFlow's reading of the object graph), with its Keras name; nothing else of the
    /// checkpoint (the optimizer's slots and step) is a weight of the model.
    func testEveryWeightIsAtItsKeyAndNothingElseIsAWeight() throws {
        for name in Self.cases {
            let facts = try fixtureJSON("tf_checkpoint/\(name)/facts.json")
            let weights = try XCTUnwrap(facts["weights"] as? [[String: Any]])
            let model = try Checkpoint.read(prefix(name), config: config(name))
            var seen = Set<String>()
            for w in weights {
                let layer = try XCTUnwrap(w["layer"] as? String), key = try XCTUnwrap(w["checkpoint_key"] as? String)
                let node = try XCTUnwrap(model.node(named: layer), "\(name): no node \(layer)")
                let weight = try XCTUnwrap(node.weights.first { $0.storageKey == key }, "\(name): \(layer) has no weight at \(key)")
                XCTAssertEqual(weight.tensor.shape, w["shape"] as? [Int], key)
                let record = try XCTUnwrap(node.source as? KerasLayerRecord)
                XCTAssertEqual(record.storedNames[weight.role.rawValue], w["weight"] as? String, key)
                seen.insert(key)
            }
            let modelKeys = model.nodes.flatMap { $0.weights.map(\.storageKey) }
            XCTAssertEqual(Set(modelKeys), seen, name)
            XCTAssertEqual(modelKeys.count, weights.count, name)
            for other in try XCTUnwrap(facts["other_checkpoint_entries"] as? [[String: Any]]) {
                XCTAssertFalse(modelKeys.contains(other["checkpoint_key"] as? String ?? ""), "\(other)")
            }
        }
        let withOptimizer = try XCTUnwrap(fixtureJSON("tf_checkpoint/keras_weights/facts.json")["other_checkpoint_entries"] as? [[String: Any]])
        XCTAssertEqual(withOptimizer.count, 14, "the fixture holds Adam's state, which stays out of the model")
    }

    /// The BatchNorms are the ones tf_keras's model holds, each with its four (three without
    /// gamma) variables at their keys and its epsilon.
    func testBatchNormVariablesMatchTheFacts() throws {
        for name in Self.cases {
            let expected = try XCTUnwrap(try fixtureJSON("tf_checkpoint/\(name)/facts.json")["batch_norms"] as? [[String: Any]])
            let model = try Checkpoint.read(prefix(name), config: config(name))
            XCTAssertEqual(model.batchNormIndices.map { model.nodes[$0].name }, expected.map { $0["layer"] as? String ?? "" }, name)
            for bn in expected {
                let node = try XCTUnwrap(model.node(named: bn["layer"] as? String ?? ""))
                guard case .batchNorm(let op) = node.op else { return XCTFail("\(node.name) is \(node.opName)") }
                XCTAssertEqual(Float(op.epsilon), Float(try XCTUnwrap(bn["epsilon"] as? Double)), node.name)
                for (role, field) in [(WeightRole.gamma, "gamma"), (.beta, "beta"), (.movingMean, "moving_mean"), (.movingVariance, "moving_variance")] {
                    XCTAssertEqual(node.weight(role)?.storageKey, bn[field] as? String, "\(node.name) \(field)")
                }
                XCTAssertEqual(op.scale, bn["gamma"] as? String != nil, node.name)
            }
        }
    }

    /// The same model saved as a full `.h5` by tf_keras reads into the same nodes with the same
    /// weights, value for value.
    func testSameWeightsAsTheModelsH5() throws {
        for name in Self.cases {
            let fromCheckpoint = try Checkpoint.read(prefix(name), config: config(name))
            let fromH5 = try Checkpoint.read(path("tf_checkpoint/\(name)/model.h5"))
            XCTAssertEqual(fromCheckpoint.nodes.map(\.name), fromH5.nodes.map(\.name), name)
            XCTAssertEqual(fromCheckpoint.nodes.map(\.op), fromH5.nodes.map(\.op), name)
            for (a, b) in zip(fromCheckpoint.nodes, fromH5.nodes) {
                XCTAssertEqual(a.weights.map(\.role), b.weights.map(\.role), a.name)
                for (wa, wb) in zip(a.weights, b.weights) {
                    XCTAssertEqual(try wa.tensor.materialized().bytes, try wb.tensor.materialized().bytes, "\(a.name) \(wa.role)")
                    XCTAssertEqual(wa.layout, wb.layout, "\(a.name) \(wa.role)")
                }
            }
        }
    }

    /// With `deferringWeights`, the variables that large stay in the data file until used; without
    /// it every weight is in memory.
    func testLargeWeightsAreDeferredOnlyWhenAsked() throws {
        let eager = try Checkpoint.read(prefix("keras_weights"), config: config("keras_weights"))
        XCTAssertFalse(eager.nodes.flatMap(\.weights).contains { $0.tensor.isDeferred })
        let deferred = try Checkpoint.read(prefix("keras_weights"), config: config("keras_weights"), deferringWeights: 100)
        let kernel = try XCTUnwrap(deferred.node(named: "conv")?.weight(.kernel))
        XCTAssertTrue(kernel.tensor.isDeferred, "648 bytes >= 100")
        XCTAssertFalse(try XCTUnwrap(deferred.node(named: "conv")?.weight(.bias)).tensor.isDeferred, "24 bytes < 100")
        XCTAssertEqual(try kernel.tensor.materialized().bytes, try XCTUnwrap(eager.node(named: "conv")?.weight(.kernel)).tensor.bytes)
    }

    /// A config that does not match the checkpoint is refused with one error naming the checkpoint,
    /// the layer and the key: a layer's shape changed (conv filters, dense units), a layer removed,
    /// a layer added, a variable the layer does not create, one it creates but the checkpoint lacks.
    func testMismatchedConfigIsRefusedWithTheLayerAndTheKey() throws {
        let dir = try FixturePaths.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOfFile: config("keras_weights"), encoding: .utf8)
        func variant(_ name: String, _ edit: (inout [[String: Any]]) throws -> Void) throws -> String {
            var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            var inner = try XCTUnwrap(json["config"] as? [String: Any])
            var layers = try XCTUnwrap(inner["layers"] as? [[String: Any]])
            try edit(&layers)
            inner["layers"] = layers
            json["config"] = inner
            var out = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
            if name == "no_bn" { out = out.replacingOccurrences(of: "[\"bn\",0,0,{}]", with: "[\"conv\",0,0,{}]") }
            let file = dir.appendingPathComponent("\(name).json").path
            try out.write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }
        func setConfig(_ layers: inout [[String: Any]], _ index: Int, _ key: String, _ value: Any) {
            var c = layers[index]["config"] as? [String: Any] ?? [:]
            c[key] = value
            layers[index]["config"] = c
        }
        let cases: [(file: String, place: String, words: [String])] = [
            (try variant("filters") { setConfig(&$0, 1, "filters", 8) },
             "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", ["'conv'", "[3, 3, 3, 8]", "[3, 3, 3, 6]"]),
            (try variant("no_bn") { $0.remove(at: 2) },
             "layer_with_weights-1/gamma/.ATTRIBUTES/VARIABLE_VALUE", ["'relu'", "ReLU"]),
            (try variant("extra") { layers in
                // A second ReLU after the first: every later layer moves one place.
                var extra = layers[3]
                setConfig(&layers, 3, "name", "relu")
                extra["name"] = "relu2"
                var c = extra["config"] as? [String: Any] ?? [:]
                c["name"] = "relu2"
                extra["config"] = c
                extra["inbound_nodes"] = [[["relu", 0, 0, [String: Any]()]]]
                layers.insert(extra, at: 4)
                layers[5]["inbound_nodes"] = [[["relu2", 0, 0, [String: Any]()]]]
             }, "layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE", ["'gap'", "GlobalAveragePooling2D"]),
            (try variant("no_bias") { setConfig(&$0, 1, "use_bias", false) },
             "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE", ["'conv'", "bias", "does not create"]),
            (try variant("no_center") { setConfig(&$0, 2, "center", false) },
             "layer_with_weights-1/beta/.ATTRIBUTES/VARIABLE_VALUE", ["'bn'", "beta"]),
            (try variant("units") { setConfig(&$0, 5, "units", 7) },
             "layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE", ["'fc'", "[6, 7]", "[6, 5]"]),
        ]
        for c in cases {
            let error = TensorFlowFixtures.checkpointError { _ = try Checkpoint.read(self.prefix("keras_weights"), config: c.file) }
            XCTAssertEqual(error?.file, prefix("keras_weights"), c.file)
            XCTAssertEqual(error?.place, c.place, "\(error.map { "\($0)" } ?? "")")
            for word in c.words + ["does not match the checkpoint"] {
                XCTAssertTrue(error?.problem.contains(word) ?? false, "\(c.file): '\(word)' not in \(error.map { "\($0)" } ?? "")")
            }
        }
    }

    /// Without `--config`, an object-based checkpoint says what it needs; a TF1 checkpoint given
    /// a config says it is not Keras weights; a SavedModel refuses a config.
    func testWhatIsMissingIsSaid() throws {
        let bare = TensorFlowFixtures.checkpointError { _ = try Checkpoint.read(self.prefix("keras_weights")) }
        XCTAssertTrue(bare?.problem.contains("--config") ?? false, "\(bare.map { "\($0)" } ?? "")")
        let tf1 = TensorFlowFixtures.checkpointError {
            _ = try Checkpoint.read(self.path("tf_checkpoint/slim_conv/model.ckpt"), config: self.config("keras_weights"))
        }
        XCTAssertTrue(tf1?.problem.contains("name-based TF1 checkpoint") ?? false, "\(tf1.map { "\($0)" } ?? "")")
        let saved = TensorFlowFixtures.checkpointError {
            _ = try Checkpoint.read(self.path("tf_savedmodel/tf_keras_save/model"), config: self.config("keras_weights"))
        }
        XCTAssertTrue(saved?.problem.contains("SavedModel") ?? false, "\(saved.map { "\($0)" } ?? "")")
    }
}
