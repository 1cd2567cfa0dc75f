import Foundation
import XCTest
@testable import BNConvCore
@testable import BNConvInterop
@testable import BNConvTestSupport

/// The TrackableObjectGraph tf_keras stored in its `save_weights` checkpoints (the fixtures'
/// `_CHECKPOINTABLE_OBJECT_GRAPH`, cut from the data file where facts.json says it lies): decoded
/// with every child, attribute and `has_checkpoint_values` flag, and encoded again to TensorFlow's
/// own bytes; a graph built in Swift decodes back to itself.
final class ProtobufTrackableObjectGraphTests: XCTestCase {
    /// The serialized graph of a fixture: the DT_STRING scalar's bytes after its varint length and
    /// 4-byte length checksum.
    private func storedGraph(_ name: String) throws -> [UInt8] {
        let factsURL = FixturePaths.url("tf_checkpoint/\(name)/facts.json")
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: factsURL)) as? [String: Any])
        let entries = try XCTUnwrap((facts["bundle_index"] as? [String: Any])?["entries"] as? [[String: Any]])
        let entry = try XCTUnwrap(entries.first { $0["key"] as? String == "_CHECKPOINTABLE_OBJECT_GRAPH" })
        let layout = try XCTUnwrap(entry["string_layout"] as? [String: Int])
        let offset = try XCTUnwrap(entry["offset"] as? Int) + layout["varint_bytes"]! + layout["length_checksum_bytes"]!
        let data = [UInt8](try Data(contentsOf: FixturePaths.url("tf_checkpoint/\(name)/weights.ckpt.data-00000-of-00001")))
        return Array(data[offset..<(offset + layout["length"]!)])
    }

    /// tf_keras's graphs decode as facts.json records them and encode to their own bytes.
    func testTfKerasGraphsDecodeAndEncodeToTheSameBytes() throws {
        for name in ["keras_weights", "keras_weights_nested"] {
            let bytes = try storedGraph(name)
            let graph = try ProtobufTrackableObjectGraph(bytes: bytes, file: name)
            let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.url("tf_checkpoint/\(name)/facts.json"))) as? [String: Any])
            let trimmed = try XCTUnwrap(facts["checkpoint_object_graph"] as? [String: Any])
            XCTAssertEqual(graph.objects.count, trimmed["node_count"] as? Int, name)
            let roots = try XCTUnwrap(trimmed["root_children"] as? [String: Int])
            XCTAssertEqual(Dictionary(graph.objects[0].children.map { ($0.name, $0.node) }, uniquingKeysWith: { a, _ in a }), roots, name)
            for node in try XCTUnwrap(trimmed["value_nodes"] as? [[String: Any]]) {
                let id = try XCTUnwrap(node["id"] as? Int)
                let attributes = try XCTUnwrap(node["attributes"] as? [[String: String]])
                XCTAssertEqual(graph.objects[id].attributes.map(\.checkpointKey), attributes.map { $0["checkpoint_key"]! }, "\(name) \(id)")
                XCTAssertEqual(graph.objects[id].attributes.map(\.fullName), attributes.map { $0["full_name"]! }, "\(name) \(id)")
                XCTAssertEqual(graph.objects[id].hasCheckpointValues, true, "\(name) \(id)")
            }
            XCTAssertTrue(graph.objects.contains { $0.hasCheckpointValues == false }, "objects without values say so")
            XCTAssertEqual(graph.encoded(), bytes, "\(name): encoded as TensorFlow encodes it")
        }
    }

    /// A graph built in Swift (flags true, false and absent; the root's cycle) decodes back to itself.
    func testBuiltGraphRoundTrips() throws {
        let graph = ProtobufTrackableObjectGraph(objects: [
            .init(children: [.init(node: 1, name: "layer_with_weights-0"), .init(node: 1, name: "layer-0"), .init(node: 0, name: "root")],
                  attributes: [], hasCheckpointValues: true),
            .init(children: [.init(node: 2, name: "kernel")], attributes: [], hasCheckpointValues: true),
            .init(children: [], attributes: [.init(name: "VARIABLE_VALUE", fullName: "conv/kernel",
                                                   checkpointKey: "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE")],
                  hasCheckpointValues: true),
            .init(children: [], attributes: [], hasCheckpointValues: false),
            .init(children: [], attributes: [], hasCheckpointValues: nil),
        ])
        XCTAssertEqual(try ProtobufTrackableObjectGraph(bytes: graph.encoded(), file: "built"), graph)
    }
}
