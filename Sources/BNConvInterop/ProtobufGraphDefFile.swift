import CBNConvProto
import CProtobufC
import Foundation
import BNConvCore

/// A TensorFlow GraphDef file's bytes split into its top-level fields; each NodeDef is decoded by
/// protobuf-c on its own, and written back on its own.
///
/// Reading: the top level is walked with ``ProtobufWire``; the fields other than `node`
/// (`versions`, `library`, unknown ones) are checked by protobuf-c as a GraphDef of their own;
/// each NodeDef is unpacked by protobuf-c from its bytes with every attribute tensor's
/// `tensor_content` cut out, and its Swift copy gets that content as a view of ``bytes``
/// (`ArraySlice`): a large graph's weights are not copied to be read, and only the constants a
/// reader turns into tensors are ever copied at all.
///
/// Writing (``write(to:edits:deleted:appending:)``), in one pass in file order: untouched NodeDefs
/// and every other field are copied from ``bytes``; an edited NodeDef is unpacked again, edited in
/// place and packed by protobuf-c straight into the sink, its tensors' contents lent to it rather
/// than copied; new NodeDefs follow the last NodeDef. So an untouched graph is written back byte
/// for byte, and an edited node keeps its unknown fields.
package final class ProtobufGraphDefFile: Sendable {
    /// The file's bytes.
    let bytes: [UInt8]
    /// The file, for error messages.
    let file: String
    /// The top-level fields, in file order.
    private let fields: [ProtobufWire.Field]
    /// The positions in `fields` of the `node` fields (GraphDef field 1), in file order.
    private let nodeFields: [Int]

    /// Splits `bytes`; a malformed message (bad wire type, a length past the end, a `versions` or
    /// `library` protobuf-c refuses) is an error naming `file`.
    package init(bytes: [UInt8], file: String) throws {
        self.bytes = bytes
        self.file = file
        guard !bytes.isEmpty else {
            throw CheckpointError(.malformed, file: file, problem: "the file is empty, not a TensorFlow GraphDef")
        }
        let refusal = CheckpointError(.malformed, file: file, problem:
            "not a valid tensorflow.GraphDef protobuf message (protobuf-c could not parse its \(bytes.count) bytes: truncated or not a GraphDef)")
        // The whole message, nested ones included, is walked once before protobuf-c unpacks any
        // of it: its recursion must never meet a nesting it cannot survive.
        if let problem = withUnsafePointer(to: tensorflow__graph_def__descriptor, { ProtobufWireCheck.firstProblem(in: bytes, descriptor: $0) }) {
            throw CheckpointError(.malformed, file: file, problem: "not a TensorFlow GraphDef: \(problem)")
        }
        guard let fields = bytes.withUnsafeBytes({ ProtobufWire.fields(in: $0, 0..<bytes.count) }) else { throw refusal }
        self.fields = fields
        nodeFields = fields.indices.filter { fields[$0].number == 1 }
        guard nodeFields.allSatisfy({ fields[$0].wireType == 2 }) else { throw refusal }
        // The other fields, checked by protobuf-c as a GraphDef without nodes.
        var rest = [UInt8]()
        for f in fields where f.number != 1 { rest += bytes[f.range] }
        if !rest.isEmpty {
            let parsed = rest.withUnsafeBufferPointer { tensorflow__graph_def__unpack(nil, $0.count, $0.baseAddress) }
            guard let parsed else { throw refusal }
            tensorflow__graph_def__free_unpacked(parsed, nil)
        }
    }

    /// How many NodeDefs the graph has.
    package var nodeCount: Int { nodeFields.count }

    /// Swift copies of every NodeDef, in file order; tensor contents are views of ``bytes``.
    package func nodeDefs() throws -> [ProtobufNodeDef] {
        try bytes.withUnsafeBytes { raw in
            try nodeFields.enumerated().map { k, f in
                guard let (node, contents) = unpackNode(fields[f].payload, raw) else {
                    throw CheckpointError(.malformed, file: file, place: "node #\(k)", problem:
                        "not a valid tensorflow.NodeDef (protobuf-c could not parse its \(fields[f].payload.count) bytes)")
                }
                defer { tensorflow__node_def__free_unpacked(node, nil) }
                return ProtobufNodeDefCodec.copy(node, contents: contents.mapValues { bytes[$0] })
            }
        }
    }

    /// Writes the graph to `sink`: NodeDefs whose position (in file order) is in `deleted` are
    /// left out, those in `edits` are re-encoded with their edit, `appending` follows the last
    /// NodeDef; everything else is copied byte for byte.
    package func write(to sink: ByteSink, edits: [Int: ProtobufNodeDefEdit], deleted: Set<Int>, appending: [ProtobufNodeDef]) throws {
        let adapter = ProtobufCByteSink(sink)
        let lastNode = nodeFields.last ?? fields.count - 1
        try bytes.withUnsafeBytes { raw in
            var node = 0
            for (i, f) in fields.enumerated() {
                if f.number != 1 {
                    sink.append(UnsafeRawBufferPointer(rebasing: raw[f.range]))
                } else {
                    if deleted.contains(node) {
                        // Left out.
                    } else if let edit = edits[node] {
                        try writeEdited(f.payload, edit, place: "node #\(node)", raw: raw, adapter: adapter, sink: sink)
                    } else {
                        sink.append(UnsafeRawBufferPointer(rebasing: raw[f.range]))
                    }
                    node += 1
                }
                if i == lastNode {
                    for n in appending {
                        let built = ProtobufNodeDefCodec.build(n)
                        defer { tensorflow__node_def__free_unpacked(built, nil) }
                        pack(built, adapter: adapter, sink: sink)
                    }
                }
            }
        }
    }

    // MARK: Nodes

    /// Unpacks the NodeDef in `payload` through protobuf-c without its attribute tensors'
    /// `tensor_content`, which comes back as ranges of ``bytes`` by attribute position; nil when
    /// protobuf-c refuses the bytes. The caller frees the tree.
    private func unpackNode(_ payload: Range<Int>, _ raw: UnsafeRawBufferPointer)
        -> (UnsafeMutablePointer<Tensorflow__NodeDef>, [Int: Range<Int>])? {
        guard let nodeFields = ProtobufWire.fields(in: raw, payload) else { return nil }
        // attr (5) -> AttrValue entry value (2) -> tensor (8) -> tensor_content (4).
        var contents = [Int: Range<Int>]()
        var cuts = [(field: Int, bytes: [UInt8])]()
        var entry = 0
        for (k, f) in nodeFields.enumerated() where f.number == 5 && f.wireType == 2 {
            if let (shorter, content) = cut(f.payload, path: [2, 8, 4], raw) {
                cuts.append((k, ProtobufWire.lengthDelimitedHeader(field: 5, length: shorter.count) + shorter))
                contents[entry] = content
            }
            entry += 1
        }
        let node: UnsafeMutablePointer<Tensorflow__NodeDef>?
        if cuts.isEmpty {
            node = tensorflow__node_def__unpack(nil, payload.count, raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + payload.lowerBound)
        } else {
            var shadow = [UInt8]()
            var next = 0
            for (k, f) in nodeFields.enumerated() {
                if next < cuts.count, cuts[next].field == k {
                    shadow += cuts[next].bytes
                    next += 1
                } else {
                    shadow += UnsafeRawBufferPointer(rebasing: raw[f.range])
                }
            }
            node = shadow.withUnsafeBufferPointer { tensorflow__node_def__unpack(nil, $0.count, $0.baseAddress) }
        }
        return node.map { ($0, contents) }
    }

    /// The message in `payload` re-encoded without the length-delimited field at the end of `path`
    /// (field numbers, outermost first), and the range of the last such field's payload (protobuf's
    /// last-one-wins for a bytes field); nil when there is none.
    private func cut(_ payload: Range<Int>, path: ArraySlice<Int>, _ raw: UnsafeRawBufferPointer) -> ([UInt8], Range<Int>)? {
        guard let number = path.first, let inner = ProtobufWire.fields(in: raw, payload),
              inner.contains(where: { $0.number == number && $0.wireType == 2 }) else { return nil }
        var out = [UInt8]()
        var found: Range<Int>?
        for f in inner {
            if f.number == number, f.wireType == 2 {
                if path.count == 1 {
                    found = f.payload
                    continue
                }
                if let (shorter, content) = cut(f.payload, path: path.dropFirst(), raw) {
                    out += ProtobufWire.lengthDelimitedHeader(field: number, length: shorter.count) + shorter
                    found = content
                    continue
                }
            }
            out += UnsafeRawBufferPointer(rebasing: raw[f.range])
        }
        return found.map { (out, $0) }
    }

    /// Re-encodes the NodeDef in `payload` with `edit` applied.
    private func writeEdited(_ payload: Range<Int>, _ edit: ProtobufNodeDefEdit, place: String, raw: UnsafeRawBufferPointer,
                             adapter: ProtobufCByteSink, sink: ByteSink) throws {
        let node: UnsafeMutablePointer<Tensorflow__NodeDef>
        // Contents to lend to the tree while it is packed, by attribute position.
        var lent = [Int: ArraySlice<UInt8>]()
        if let replacement = edit.replacement {
            node = ProtobufNodeDefCodec.build(replacement)
        } else {
            guard let (unpacked, contents) = unpackNode(payload, raw) else {
                throw CheckpointError(.malformed, file: file, place: place, problem: "not a valid tensorflow.NodeDef")
            }
            node = unpacked
            for (i, r) in contents { lent[i] = bytes[r] }
        }
        defer { tensorflow__node_def__free_unpacked(node, nil) }
        for (key, value) in edit.attributes {
            lent[ProtobufNodeDefCodec.setAttribute(of: node, key: key, to: value)] = nil
        }
        for (key, tensor) in edit.tensors {
            var bare = tensor
            bare.content = []
            guard let i = ProtobufNodeDefCodec.setTensor(of: node, attribute: key, to: bare) else {
                throw CheckpointError(.writeFailed, file: file, place: place, problem: "the node has no tensor attribute '\(key)'")
            }
            lent[i] = tensor.content
        }
        if let inputs = edit.inputs { ProtobufNodeDefCodec.setInputs(of: node, to: inputs) }
        lend(lent.sorted { $0.key < $1.key }[...], to: node) { pack(node, adapter: adapter, sink: sink) }
    }

    /// Points each listed attribute tensor's `tensor_content` at its slice while `body` runs, then
    /// clears it again (the tree must never free memory it does not own).
    private func lend(_ items: ArraySlice<(key: Int, value: ArraySlice<UInt8>)>, to node: UnsafeMutablePointer<Tensorflow__NodeDef>,
                      _ body: () -> Void) {
        guard let (index, content) = items.first else { return body() }
        guard let tensor = node.pointee.attr[index]?.pointee.value?.pointee.tensor else {
            return lend(items.dropFirst(), to: node, body)
        }
        content.withUnsafeBufferPointer { buffer in
            tensor.pointee.tensor_content = ProtobufCBinaryData(len: buffer.count, data: UnsafeMutablePointer(mutating: buffer.baseAddress))
            lend(items.dropFirst(), to: node, body)
            tensor.pointee.tensor_content = ProtobufCBinaryData(len: 0, data: nil)
        }
    }

    /// Appends `node` as a GraphDef `node` field: key, length, then protobuf-c's packing.
    private func pack(_ node: UnsafeMutablePointer<Tensorflow__NodeDef>, adapter: ProtobufCByteSink, sink: ByteSink) {
        let size = tensorflow__node_def__get_packed_size(node)
        sink.append(ProtobufWire.lengthDelimitedHeader(field: 1, length: size))
        let written = tensorflow__node_def__pack_to_buffer(node, adapter.buffer)
        precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
    }
}
