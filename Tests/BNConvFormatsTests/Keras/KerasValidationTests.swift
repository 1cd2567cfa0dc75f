@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvFormats
@testable import BNConvTestSupport
import Foundation
import XCTest

/// The Keras reader ends with the shared finish step: an architecture that does not form a
/// consistent model is refused with one error naming the file and the layer, as for every format.
final class KerasValidationTests: XCTestCase {
    /// `sequential`'s tf-keras config with `edit` applied, written to a scratch file.
    private func editedConfig(_ edit: (inout [[String: Any]]) throws -> Void) throws -> String {
        let original = FixturePaths.url("keras/sequential/keras2.json")
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: original)) as? [String: Any])
        var inner = try XCTUnwrap(config["config"] as? [String: Any])
        var layers = try XCTUnwrap(inner["layers"] as? [[String: Any]])
        try edit(&layers)
        inner["layers"] = layers
        config["config"] = inner
        let dir = try FixturePaths.scratchDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("edited.json")
        try JSONSerialization.data(withJSONObject: config).write(to: path)
        return path.path
    }

    private func name(_ layer: [String: Any]) -> String? { (layer["config"] as? [String: Any])?["name"] as? String }

    private func refusal(config: String) throws -> CheckpointError {
        let weights = FixturePaths.url("keras/sequential/keras2_weights.h5").path
        XCTAssertNoThrow(try Checkpoint.read(weights, config: FixturePaths.url("keras/sequential/keras2.json").path))
        do {
            _ = try Checkpoint.read(weights, config: config)
        } catch let error as CheckpointError {
            XCTAssertEqual(error.file, weights)
            XCTAssertEqual(error.kind, .malformed)
            return error
        }
        throw XCTSkip("unreachable: the edited architecture was read")
    }

    func testTwoLayersOfOneNameAreRefused() throws {
        // A second `relu1` (Keras itself refuses duplicate names in a Sequential); the reader used
        // to build two nodes of one name without a word.
        let config = try editedConfig { layers in
            let relu = try XCTUnwrap(layers.firstIndex { self.name($0) == "relu1" })
            layers.insert(layers[relu], at: relu + 1)
        }
        let error = try refusal(config: config)
        XCTAssertEqual(error.place, "relu1")
        XCTAssertEqual(error.problem, "two nodes are named 'relu1'")
    }

    func testZeroStrideNamesTheLayer() throws {
        let config = try editedConfig { layers in
            let conv = try XCTUnwrap(layers.firstIndex { self.name($0) == "conv2" })
            var entry = layers[conv]
            var settings = try XCTUnwrap(entry["config"] as? [String: Any])
            settings["strides"] = [0, 1]
            entry["config"] = settings
            layers[conv] = entry
        }
        let error = try refusal(config: config)
        XCTAssertEqual(error.place, "conv2")
        XCTAssertEqual(error.problem, "node 'conv2' declares strides [0, 1]; each must be from 1 to 2147483647")
    }
}
