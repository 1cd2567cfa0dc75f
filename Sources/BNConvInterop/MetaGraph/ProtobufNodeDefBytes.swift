import CBNConvProto
import CProtobufC
import BNConvCore
import Foundation

/// NodeDef messages as bytes: made from a Swift description, or re-encoded from their bytes with a
/// new name, inputs or attributes (every other field, unknown ones included, kept by protobuf-c);
/// and a GraphDef assembled from NodeDef messages. Used where a graph is built rather than edited
/// in place (a checkpoint's graph frozen, a function inlined).
package enum ProtobufNodeDefBytes {
    /// The NodeDef message of `node` (its tensors' contents packed from memory).
    package static func encode(_ node: ProtobufNodeDef) -> [UInt8] {
        let built = ProtobufNodeDefCodec.build(node)
        defer { tensorflow__node_def__free_unpacked(built, nil) }
        return pack(built)
    }

    /// `bytes` (a NodeDef message) re-encoded with the changes given; nil when protobuf-c cannot parse it.
    package static func edit(_ bytes: [UInt8], name: String? = nil, op: String? = nil, inputs: [String]? = nil,
                             attributes: [(key: String, value: ProtobufAttrValue)] = [], removing: [String] = []) -> [UInt8]? {
        guard let node = bytes.withUnsafeBufferPointer({ tensorflow__node_def__unpack(nil, $0.count, $0.baseAddress) }) else { return nil }
        defer { tensorflow__node_def__free_unpacked(node, nil) }
        if let name {
            free(node.pointee.name)
            node.pointee.name = ProtobufNodeDefCodec.mallocString(name)
        }
        if let op {
            free(node.pointee.op)
            node.pointee.op = ProtobufNodeDefCodec.mallocString(op)
        }
        if let inputs { ProtobufNodeDefCodec.setInputs(of: node, to: inputs) }
        for (key, value) in attributes { ProtobufNodeDefCodec.setAttribute(of: node, key: key, to: value) }
        if !removing.isEmpty { ProtobufNodeDefCodec.removeAttributes(of: node, keys: Set(removing)) }
        return pack(node)
    }

    /// Appends `node` (a NodeDef message) to `graph` (a GraphDef message being built) as one more
    /// `node` field (GraphDef field 1).
    package static func appendNode(_ node: [UInt8], to graph: inout [UInt8]) {
        graph += ProtobufWire.lengthDelimitedHeader(field: 1, length: node.count)
        graph += node
    }

    /// The packed bytes of a NodeDef tree.
    private static func pack(_ node: UnsafeMutablePointer<Tensorflow__NodeDef>) -> [UInt8] {
        let size = tensorflow__node_def__get_packed_size(node)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = tensorflow__node_def__pack(node, buffer.baseAddress)
        }
    }
}
