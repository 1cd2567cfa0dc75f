@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

final class KerasConfigRewriterTests: XCTestCase {
    /// conv (no bias) -> bn as the model output: after the fold the config is the original with the
    /// BN entry gone, `use_bias: true` on the conv and the output pointing at the conv, in each dialect.
    func testFoldedConfigDropsTheBatchNormAndRewiresInEachDialect() throws {
        for file in ["keras2.h5", "keras3_legacy.h5", "keras2.keras", "keras3.keras"] {
            let path = FixturePaths.url("keras/conv2d_nobias_bn/\(file)").path
            try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
            var model = try Checkpoint.read(path)
            let record = try XCTUnwrap(model.source as? KerasModelRecord)
            XCTAssertEqual(KerasHandFold.foldAll(&model), ["bn"])
            let rewritten = try KerasConfigRewriter(edits: try KerasModelEdits(model: model, record: record, changes: try XCTUnwrap(ModelChanges(model)))).rewrite(try XCTUnwrap(record.config))

            var expected = try XCTUnwrap(record.config?.objectValue)
            var config = try XCTUnwrap(expected["config"]?.objectValue)
            var layers = try XCTUnwrap(config["layers"]?.arrayValue).filter { $0["name"]?.stringValue != "bn" }
            let convIndex = try XCTUnwrap(layers.firstIndex { $0["name"]?.stringValue == "conv" })
            var conv = try XCTUnwrap(layers[convIndex].objectValue)
            var convConfig = try XCTUnwrap(conv["config"]?.objectValue)
            XCTAssertEqual(convConfig["use_bias"], .bool(false), file)
            convConfig["use_bias"] = .bool(true)
            conv["config"] = .object(convConfig)
            layers[convIndex] = .object(conv)
            config["layers"] = .array(layers)
            let outputs = try XCTUnwrap(config["output_layers"])
            config["output_layers"] = try JSONValue.parse(outputs.serialized().replacingOccurrences(of: #""bn""#, with: #""conv""#))
            expected["config"] = .object(config)
            XCTAssertEqual(rewritten.serialized(), JSONValue.object(expected).serialized(), file)
        }
    }

    /// A Keras 3 consumer's `keras_history` is rewired, its recorded shape kept.
    func testKeras3HistoryIsRewired() throws {
        let path = FixturePaths.url("keras/conv_bn_flatten_dense/keras3.keras").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        var model = try Checkpoint.read(path)
        let record = try XCTUnwrap(model.source as? KerasModelRecord)
        XCTAssertEqual(KerasHandFold.foldAll(&model), ["bn"])
        let text = try KerasConfigRewriter(edits: try KerasModelEdits(model: model, record: record, changes: try XCTUnwrap(ModelChanges(model)))).rewrite(try XCTUnwrap(record.config)).serialized()
        XCTAssertFalse(text.contains(#""keras_history": ["bn", 0, 0]"#))
        XCTAssertFalse(text.contains(#""name": "bn""#))
        let consumers = try XCTUnwrap(record.config?["config"]?["layers"]?.arrayValue).filter {
            $0.serialized().contains(#""keras_history": ["bn", 0, 0]"#)
        }
        XCTAssertEqual(consumers.count, 1)
        XCTAssertTrue(text.contains(#""keras_history": ["conv", 0, 0]"#))
    }
}
