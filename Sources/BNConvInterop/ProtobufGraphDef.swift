import CBNConvProto
import CProtobufC
import Foundation
import BNConvCore

/// Owns one protobuf-c `tensorflow.GraphDef` tree unpacked from bytes, and edits it in place.
///
/// The tree comes from `tensorflow__graph_def__unpack` and is released with `free_unpacked` in
/// `deinit`. Every buffer this class splices into the tree (strings, arrays, new messages) is
/// `malloc`'d, so `free_unpacked` can free it like the rest (docs/formats.md, protobuf-c); nothing
/// hand-built on the stack ever enters the tree. Fields the project's schema leaves out stay
/// protobuf-c unknown fields, so `packed()` of an untouched tree gives back the input bytes.
final class ProtobufGraphDef {
    private let message: UnsafeMutablePointer<Tensorflow__GraphDef>
    /// The file the bytes came from, for error messages.
    let file: String

    /// Unpacks `bytes`; a malformed message (bad wire type, a length past the end) is an error
    /// naming `file`.
    init(bytes: [UInt8], file: String) throws {
        self.file = file
        guard !bytes.isEmpty else {
            throw CheckpointError(.malformed, file: file, problem: "the file is empty, not a TensorFlow GraphDef")
        }
        if let problem = withUnsafePointer(to: tensorflow__graph_def__descriptor, { ProtobufWireCheck.firstProblem(in: bytes, descriptor: $0) }) {
            throw CheckpointError(.malformed, file: file, problem: "not a TensorFlow GraphDef: \(problem)")
        }
        let parsed = bytes.withUnsafeBufferPointer {
            tensorflow__graph_def__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let parsed else {
            throw CheckpointError(.malformed, file: file, problem:
                "not a valid tensorflow.GraphDef protobuf message (protobuf-c could not parse its \(bytes.count) bytes: truncated or not a GraphDef)")
        }
        message = parsed
    }

    deinit { tensorflow__graph_def__free_unpacked(message, nil) }

    /// The message serialized again: known fields in field-number order, then unknown fields in
    /// the order they were read.
    func packed() -> [UInt8] {
        let size = tensorflow__graph_def__get_packed_size(message)
        var out = [UInt8](repeating: 0, count: size)
        let written = out.withUnsafeMutableBufferPointer { tensorflow__graph_def__pack(message, $0.baseAddress) }
        precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
        return out
    }

    /// How many nodes the graph has.
    var nodeCount: Int { message.pointee.n_node }

    /// The graph's `versions.producer`, if present.
    var producerVersion: Int32? { message.pointee.versions.map { $0.pointee.producer } }

    /// Swift copies of every node, in file order.
    func nodeDefs() -> [ProtobufNodeDef] {
        (0..<nodeCount).map { ProtobufNodeDefCodec.copy(message.pointee.node[$0]!) }
    }

    // MARK: Edits

    /// Removes the nodes named in `names` (and frees them).
    func removeNodes(named names: Set<String>) {
        guard !names.isEmpty else { return }
        var kept = 0
        for i in 0..<nodeCount {
            let node = message.pointee.node[i]!
            if names.contains(String(cString: node.pointee.name)) {
                tensorflow__node_def__free_unpacked(node, nil)
            } else {
                message.pointee.node[kept] = node
                kept += 1
            }
        }
        message.pointee.n_node = kept
    }

    /// Replaces the input list of the node named `name`; returns false if there is no such node.
    @discardableResult
    func setInputs(ofNode name: String, to inputs: [String]) -> Bool {
        guard let node = find(name) else { return false }
        ProtobufNodeDefCodec.setInputs(of: node, to: inputs)
        return true
    }

    /// Replaces the tensor held by attribute `key` of the node named `name` (a Const's `value`).
    /// Returns false if the node or a tensor attribute of that name is missing.
    @discardableResult
    func setTensor(ofNode name: String, attribute key: String, to tensor: ProtobufTensorProto) -> Bool {
        guard let node = find(name) else { return false }
        return ProtobufNodeDefCodec.setTensor(of: node, attribute: key, to: tensor) != nil
    }

    /// Sets attribute `key` of the node named `name` to `value`, replacing the entry in place or
    /// appending one; the node's other attributes and unknown fields are kept. Returns false if
    /// there is no such node.
    @discardableResult
    func setAttribute(ofNode name: String, key: String, to value: ProtobufAttrValue) -> Bool {
        guard let node = find(name) else { return false }
        ProtobufNodeDefCodec.setAttribute(of: node, key: key, to: value)
        return true
    }

    /// Replaces the node named `name` in place by one built from `node` (its unknown fields are
    /// dropped); returns false if there is no such node.
    @discardableResult
    func replaceNode(named name: String, with node: ProtobufNodeDef) -> Bool {
        for i in 0..<nodeCount {
            let old = message.pointee.node[i]!
            guard String(cString: old.pointee.name) == name else { continue }
            message.pointee.node[i] = ProtobufNodeDefCodec.build(node)
            tensorflow__node_def__free_unpacked(old, nil)
            return true
        }
        return false
    }

    /// Appends a new node built from `node` (every buffer malloc'd).
    func append(_ node: ProtobufNodeDef) {
        let n = nodeCount
        let array = realloc(message.pointee.node, (n + 1) * MemoryLayout<UnsafeMutablePointer<Tensorflow__NodeDef>?>.stride)!
        message.pointee.node = array.assumingMemoryBound(to: UnsafeMutablePointer<Tensorflow__NodeDef>?.self)
        message.pointee.node[n] = ProtobufNodeDefCodec.build(node)
        message.pointee.n_node = n + 1
    }

    private func find(_ name: String) -> UnsafeMutablePointer<Tensorflow__NodeDef>? {
        for i in 0..<nodeCount {
            let node = message.pointee.node[i]!
            if String(cString: node.pointee.name) == name { return node }
        }
        return nil
    }
}
