@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvEngine
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// Models with TFOpLambda layers (Tests/Fixtures/keras/mini_mobilenetv3 and oplambda_zoo, written by
/// tf_keras with its own outputs) run like tf_keras, fold, run again, and are written back with
/// every TFOpLambda layer as read: only references to removed BatchNorms rewired, and a constant a
/// fold scaled (oplambda_zoo's `x + c` before its BN) written into the config.
final class KerasOpLambdaConstantsTests: XCTestCase {
    private let cases = ["mini_mobilenetv3", "oplambda_zoo"]
    private let files = ["keras2.h5", "keras2.keras"]

    private func scratch() throws -> URL {
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    private func folder(_ fixture: String) -> URL { FixturePaths.url("keras/\(fixture)") }

    /// max|y - ref| / (max(ref) - min(ref)).
    private func rangeError(_ y: Tensor, _ ref: Tensor) -> Double {
        let r = ref.doubles()
        let span = max((r.max() ?? 0) - (r.min() ?? 0), 1e-30)
        return (zip(y.doubles(), r).map { abs($0 - $1) }.max() ?? .infinity) / span
    }

    private func assertRunsLikeTfKeras(_ model: Model, _ fixture: String, _ label: String) throws {
        let input = try NumPyFile.read(folder(fixture).appendingPathComponent("input.npy").path)
        let reference = try NumPyFile.read(folder(fixture).appendingPathComponent("output_keras2.npy").path)
        let y = try ModelRunner(model: model).run([input])[0]
        XCTAssertEqual(y.shape, reference.shape, label)
        XCTAssertLessThanOrEqual(rangeError(y, reference), 1e-5, label)
    }

    /// The layer entries of a Keras config by name.
    private func layers(_ model: Model) throws -> [String: JSONValue] {
        let config = try XCTUnwrap((model.source as? KerasModelRecord)?.config)
        var out: [String: JSONValue] = [:]
        for layer in try XCTUnwrap(config["config"]?["layers"]?.arrayValue) {
            if let name = layer["name"]?.stringValue { out[name] = layer }
        }
        return out
    }

    func testTheFixturesRunFoldAndRunAgainLikeTfKeras() throws {
        for fixture in cases {
            let facts = try fixtureJSON("keras/\(fixture)/facts.json")
            let expected = try XCTUnwrap((facts["keras2"] as? [String: Any])?["expect_fold"] as? [String: String])
            for file in files {
                let label = "\(fixture)/\(file)"
                let model = try Checkpoint.read(folder(fixture).appendingPathComponent(file).path)
                try assertRunsLikeTfKeras(model, fixture, label)
                let folded = try FoldBatchNorm().apply(to: model)
                let into = Dictionary(uniqueKeysWithValues: folded.decisions.map { ($0.batchNorm, $0.target) })
                XCTAssertEqual(into, expected.mapValues { Optional($0) }, label)
                XCTAssertTrue(folded.model.batchNormIndices.isEmpty, label)
                try assertRunsLikeTfKeras(folded.model, fixture, "\(label) folded")
            }
        }
    }

    func testAnUnchangedModelIsWrittenWithItsConfigByteForByte() throws {
        let dir = try scratch()
        for fixture in cases {
            for file in files {
                let label = "\(fixture)/\(file)"
                var model = try Checkpoint.read(folder(fixture).appendingPathComponent(file).path)
                // A change elsewhere, so the writer rebuilds the file rather than copying it.
                let dense = try XCTUnwrap(model.nodes.firstIndex { if case .conv = $0.op { return true } else { return false } })
                var kernel = try XCTUnwrap(model.nodes[dense].weight(.kernel))
                kernel.isModified = true
                model.nodes[dense].setWeight(kernel)
                let out = dir.appendingPathComponent("\(fixture)-\(file)").path
                try Checkpoint.write(model, to: out)
                let back = try Checkpoint.read(out)
                XCTAssertEqual((back.source as? KerasModelRecord)?.configText, (model.source as? KerasModelRecord)?.configText, label)
                try assertRunsLikeTfKeras(back, fixture, "\(label) written back")
            }
        }
    }

    func testAFoldedModelKeepsItsTFOpLambdaLayersButRewiringAndTheScaledConstant() throws {
        let dir = try scratch()
        for fixture in cases {
            for file in files {
                let label = "\(fixture)/\(file)"
                let model = try Checkpoint.read(folder(fixture).appendingPathComponent(file).path)
                let folded = try FoldBatchNorm().apply(to: model)
                let out = dir.appendingPathComponent("folded-\(fixture)-\(file)").path
                try Checkpoint.write(folded.model, to: out)
                let back = try Checkpoint.read(out)
                try assertRunsLikeTfKeras(back, fixture, "\(label) folded and read back")
                // A reference to a removed BN now names the layer that wrote the BN's input.
                var bypass: [String: String] = [:]
                for decision in folded.decisions where decision.folds {
                    bypass[decision.batchNorm] = try XCTUnwrap(model.node(named: decision.batchNorm)?.inputs.first)
                }
                let before = try layers(model), after = try layers(back)
                var scaled = 0
                for (name, layer) in before where layer["class_name"]?.stringValue == "TFOpLambda" {
                    let written = try XCTUnwrap(after[name], "\(label): \(name) written")
                    XCTAssertEqual(written["config"], layer["config"], "\(label) \(name): config")
                    let old = KerasCallArguments(try XCTUnwrap(layer["inbound_nodes"]?[0]))
                    let new = KerasCallArguments(try XCTUnwrap(written["inbound_nodes"]?[0]))
                    XCTAssertEqual(new.refs.map(\.layer), old.refs.map { bypass[$0.layer] ?? $0.layer }, "\(label) \(name): rewired")
                    XCTAssertEqual(new.first.count, old.first.count, "\(label) \(name)")
                    XCTAssertEqual(new.keywords.map(\.key), old.keywords.map(\.key), "\(label) \(name)")
                    let node = try XCTUnwrap(folded.model.node(named: name))
                    for (o, n) in zip(old.keywords, new.keywords) where o.value != n.value {
                        // Only a constant the fold scaled differs: it holds the folded node's values.
                        guard case .constant(let value) = n.value, let weight = node.weights.first(where: { $0.isModified }) else {
                            XCTFail("\(label) \(name): keyword \(o.key) changed from \(o.value) to \(n.value)")
                            continue
                        }
                        let numbers = try XCTUnwrap(KerasOpLambdaMapper.numbers(value))
                        XCTAssertEqual(numbers.shape, weight.tensor.shape, "\(label) \(name)")
                        XCTAssertEqual(numbers.values.map { Float($0) }, weight.tensor.floats(), "\(label) \(name)")
                        scaled += 1
                    }
                    XCTAssertEqual(new.first, old.first, "\(label) \(name): first argument")
                }
                XCTAssertEqual(scaled, fixture == "oplambda_zoo" ? 1 : 0, "\(label): constants scaled by the fold")
            }
        }
    }

    func testAPassChangingATFOpLambdasOpIsRefused() throws {
        var model = try Checkpoint.read(folder("oplambda_zoo").appendingPathComponent("keras2.h5").path)
        let k = try XCTUnwrap(model.nodes.firstIndex { $0.name == "tf.math.maximum" })
        guard case .tensor(var op) = model.nodes[k].op else { return XCTFail("\(model.nodes[k].op)") }
        op.type = "Min"
        model.nodes[k].op = .tensor(op)
        let out = try scratch().appendingPathComponent("changed.h5").path
        XCTAssertThrowsError(try Checkpoint.write(model, to: out)) { error in
            XCTAssertTrue("\(error)".contains("tf.math.maximum"), "\(error)")
            XCTAssertTrue("\(error)".contains("TFOpLambda"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
