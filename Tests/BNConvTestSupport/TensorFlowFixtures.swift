import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop

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

    /// `graph` with the NodeDef `node` given attribute `key` = `true` (appended) and the raw bytes
    /// `extra` appended to its message (an unknown field), re-encoding the node's length prefix.
    static func withNode(_ node: String, of graph: [UInt8], setTrue key: String, appending extra: [UInt8]) throws -> [UInt8] {
        let message = try ProtobufGraphDef(bytes: graph, file: "g.pb")
        XCTAssertTrue(message.setAttribute(ofNode: node, key: key, to: .bool(true)))
        let edited = message.packed()
        var out = [UInt8]()
        var offset = 0
        func varint(_ bytes: [UInt8], _ at: inout Int) -> Int {
            var value = 0, shift = 0
            while true {
                let b = bytes[at]; at += 1
                value |= Int(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
        }
        func putVarint(_ v: Int) {
            var v = v
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }
        while offset < edited.count {
            let start = offset
            let key = varint(edited, &offset)
            precondition(key & 7 == 2, "top-level GraphDef fields are length-delimited")
            let length = varint(edited, &offset)
            let payload = Array(edited[offset..<(offset + length)])
            offset += length
            let named = key >> 3 == 1 && (try? ProtobufGraphDef(bytes: [0x0A] + encodedLength(payload.count) + payload, file: "n"))?
                .nodeDefs().first?.name == node
            if named {
                putVarint(key)
                putVarint(payload.count + extra.count)
                out += payload + extra
            } else {
                out += edited[start..<offset]
            }
        }
        return out
    }

    /// A protobuf varint.
    static func encodedLength(_ v: Int) -> [UInt8] {
        var v = v, out = [UInt8]()
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }

    /// How often `needle` occurs in `haystack`.
    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
        return (0...(haystack.count - needle.count)).filter { Array(haystack[$0..<($0 + needle.count)]) == needle }.count
    }

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
