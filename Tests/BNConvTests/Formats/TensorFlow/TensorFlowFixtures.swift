import Foundation
import XCTest
@testable import BNConv

/// The TensorFlow-written fixtures under Tests/Fixtures/tensorflow (tools/fixtures/make_graphdef_fixtures.py).
enum TensorFlowFixtures {
    /// Every case folder holding a `graph.pb` with `facts.json`, by name.
    static func cases() throws -> [String] {
        let root = FixturePaths.url("tensorflow")
        return try FileManager.default.contentsOfDirectory(atPath: root.path).filter {
            FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/facts.json").path)
        }.sorted()
    }

    /// The path of a case's graph.
    static func graph(_ name: String) -> String { FixturePaths.url("tensorflow/\(name)/graph.pb").path }

    /// The bytes of a case's graph.
    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: graph(name)))) }

    /// What TensorFlow said about a case's graph.
    struct Facts: Decodable {
        struct Fused: Decodable {
            var name: String
            var op: String
            var epsilon: Double
            var epsilon_attr_present: Bool
            var data_format: String
            var is_training: Bool
        }
        struct GlobalNormalization: Decodable {
            var name: String
            var epsilon: Double
            var scale_after_normalization: Bool
        }
        struct Decomposed: Decodable {
            var rsqrt: String
            var epsilon: Double
        }
        var op_counts: [String: Int]
        var node_count: Int
        var fused_batch_norms: [Fused]
        var decomposed_batch_norms: [Decomposed]
        /// BatchNormWithGlobalNormalization nodes (absent from facts written before that case existed).
        var global_normalization_batch_norms: [GlobalNormalization]?
        /// The graph's output tensor, e.g. `Identity:0`.
        var output: String

        /// The output node's name.
        var outputNode: String { String(output.split(separator: ":")[0]) }
    }

    /// A case's facts.json.
    static func facts(_ name: String) throws -> Facts {
        let data = try Data(contentsOf: FixturePaths.url("tensorflow/\(name)/facts.json"))
        return try JSONDecoder().decode(Facts.self, from: data)
    }

    /// Runs `body` and returns the ``CheckpointError`` it throws, failing if it throws none or another error.
    static func checkpointError(file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> Void) -> CheckpointError? {
        do {
            try body()
            XCTFail("expected a CheckpointError, nothing was thrown", file: file, line: line)
        } catch let error as CheckpointError {
            return error
        } catch {
            XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
        }
        return nil
    }
}
