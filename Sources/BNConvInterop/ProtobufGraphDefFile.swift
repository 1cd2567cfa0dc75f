import CBNConvProto
import CProtobufC
import Foundation
import BNConvCore

/// A TensorFlow GraphDef file's bytes split into its top-level fields; each NodeDef is decoded by
/// protobuf-c on its own, and written back on its own.
///
/// The bytes are held in memory (``init(bytes:file:)``) or read where they lie, through a
/// read-only mapping of the file (``init(mapping:file:)``): nothing of the file is copied to be
/// parsed, and a large graph's weights are never read unless they are used.
///
/// Reading: the top level is walked with ``ProtobufWire``; the fields other than `node`
/// (`versions`, `library`, unknown ones) are checked by protobuf-c as a GraphDef of their own;
/// each NodeDef is unpacked by protobuf-c from its bytes with every attribute tensor's
/// `tensor_content` cut out, and its Swift copy gets that content as a view of the bytes held
/// in memory (`ArraySlice`), or, from a mapped file, as a copy, or as the range where it lies
/// (``ProtobufTensorProto/stored``) when it is at least the size asked to be left in the file.
///
/// Writing (``write(to:edits:deleted:appending:)``), in one pass in file order: untouched NodeDefs
/// and every other field are copied from the file's bytes; an edited NodeDef is unpacked again,
/// edited in place and packed by protobuf-c straight into the sink, its tensors' contents lent to
/// it rather than copied (a content still to be computed, a folded kernel, is computed then, the
/// next one on another core meanwhile); new NodeDefs follow the last NodeDef. So an untouched
/// graph is written back byte for byte, and an edited node keeps its unknown fields.
package final class ProtobufGraphDefFile: Sendable {
    /// Where the file's bytes are.
    private enum Storage: Sendable {
        /// Held in memory.
        case bytes([UInt8])
        /// Read where they lie: the file mapped whole (pages read when touched) and opened for
        /// lending ranges of it through mappings of their own.
        case mapped(FileMapping, MappedFile)
    }

    /// The file's bytes.
    private let storage: Storage
    /// The file, for error messages.
    let file: String
    /// The top-level fields, in file order.
    private let fields: [ProtobufWire.Field]
    /// The positions in `fields` of the `node` fields (GraphDef field 1), in file order.
    private let nodeFields: [Int]

    /// Splits `bytes`; a malformed message (bad wire type, a length past the end, a `versions` or
    /// `library` protobuf-c refuses) is an error naming `file`.
    package convenience init(bytes: [UInt8], file: String) throws {
        try self.init(storage: .bytes(bytes), file: file)
    }

    /// Splits the file `mapped` maps whole, reading it where it lies; `file` names it in errors.
    package convenience init(mapping mapped: MappedFile, file: String) throws {
        try self.init(storage: .mapped(try mapped.mapping(offset: 0, count: mapped.size), mapped), file: file)
    }

    private init(storage: Storage, file: String) throws {
        self.storage = storage
        self.file = file
        let (fields, nodeFields) = try Self.withBytes(storage) { bytes -> ([ProtobufWire.Field], [Int]) in
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
            guard let fields = ProtobufWire.fields(in: bytes, 0..<bytes.count) else { throw refusal }
            let nodeFields = fields.indices.filter { fields[$0].number == 1 }
            guard nodeFields.allSatisfy({ fields[$0].wireType == 2 }) else { throw refusal }
            // The other fields, checked by protobuf-c as a GraphDef without nodes.
            var rest = [UInt8]()
            for f in fields where f.number != 1 { rest += UnsafeRawBufferPointer(rebasing: bytes[f.range]) }
            if !rest.isEmpty {
                let parsed = rest.withUnsafeBufferPointer { tensorflow__graph_def__unpack(nil, $0.count, $0.baseAddress) }
                guard let parsed else { throw refusal }
                tensorflow__graph_def__free_unpacked(parsed, nil)
            }
            return (fields, nodeFields)
        }
        self.fields = fields
        self.nodeFields = nodeFields
    }

    /// Calls `body` with all of the file's bytes.
    private static func withBytes<R>(_ storage: Storage, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .bytes(let bytes): return try bytes.withUnsafeBytes(body)
        case .mapped(let mapping, _): return try body(mapping.bytes)
        }
    }

    /// The file's size in bytes.
    package var byteCount: Int { Self.withBytes(storage) { $0.count } }

    /// The file opened for lending ranges of it, when it is read where it lies.
    package var mappedFile: MappedFile? {
        if case .mapped(_, let file) = storage { return file }
        return nil
    }

    /// Lets go of the file's pages mapped while it was parsed (they stay in the page cache): the
    /// nodes are copied out, and the weights are lent by mappings of their own when used.
    package func dropResidentPages() {
        if case .mapped(let mapping, _) = storage { mapping.dropResidentPages() }
    }

    /// The NodeDef message of node `k` (file order), as its bytes.
    package func nodeMessage(_ k: Int) -> [UInt8] {
        Self.withBytes(storage) { [UInt8](UnsafeRawBufferPointer(rebasing: $0[fields[nodeFields[k]].payload])) }
    }

    /// The graph's fields other than `node`, with their keys, in file order (`versions`, `library`,
    /// unknown ones), leaving out those numbered in `excluding`.
    package func otherFields(excluding numbers: Set<Int> = []) -> [UInt8] {
        Self.withBytes(storage) { raw in
            fields.filter { $0.number != 1 && !numbers.contains($0.number) }
                .flatMap { [UInt8](UnsafeRawBufferPointer(rebasing: raw[$0.range])) }
        }
    }

    /// Every field numbered `number`, with its key, in file order.
    package func fieldBytes(numbered number: Int) -> [UInt8] {
        Self.withBytes(storage) { raw in
            fields.filter { $0.number == number }.flatMap { [UInt8](UnsafeRawBufferPointer(rebasing: raw[$0.range])) }
        }
    }

    /// The payloads of every field numbered `number`, joined (a message field given several times
    /// merges: the function `library`, field 2).
    package func payloads(ofField number: Int) -> [UInt8] {
        Self.withBytes(storage) { raw in
            fields.filter { $0.number == number && $0.wireType == 2 }
                .flatMap { [UInt8](UnsafeRawBufferPointer(rebasing: raw[$0.payload])) }
        }
    }

    /// How many NodeDefs the graph has.
    package var nodeCount: Int { nodeFields.count }

    /// Swift copies of every NodeDef, in file order. Tensor contents are views of the bytes held in
    /// memory; from a mapped file, those of `lendingFrom` bytes or more are left where they lie
    /// (``ProtobufTensorProto/stored``) and the others copied.
    package func nodeDefs(lendingFrom minimumBytes: Int? = nil) throws -> [ProtobufNodeDef] {
        try Self.withBytes(storage) { raw in
            try nodeFields.enumerated().map { k, f in
                guard let (node, contents) = unpackNode(fields[f].payload, raw) else {
                    throw CheckpointError(.malformed, file: file, place: "node #\(k)", problem:
                        "not a valid tensorflow.NodeDef (protobuf-c could not parse its \(fields[f].payload.count) bytes)")
                }
                defer { tensorflow__node_def__free_unpacked(node, nil) }
                switch storage {
                case .bytes(let bytes):
                    return ProtobufNodeDefCodec.copy(node, contents: contents.mapValues { .copied(bytes[$0]) })
                case .mapped:
                    return ProtobufNodeDefCodec.copy(node, contents: contents.mapValues { range in
                        if let minimumBytes, range.count >= minimumBytes { return .stored(range) }
                        return .copied(ArraySlice(UnsafeRawBufferPointer(rebasing: raw[range])))
                    })
                }
            }
        }
    }

    /// Writes the graph to `sink`: NodeDefs whose position (in file order) is in `deleted` are
    /// left out, those in `edits` are re-encoded with their edit, `appending` follows the last
    /// NodeDef; everything else is copied byte for byte.
    ///
    /// Contents still to be computed (``ProtobufNodeDefEdit/computedTensors``) are computed as
    /// their node is packed (the next one on another core meanwhile), or, given `gap`, skipped
    /// (``ByteSink/skip(_:)``) and handed to `gap` with the offset where their bytes go as soon as
    /// they are passed, for the caller to write there.
    package func write(to sink: ByteSink, edits: [Int: ProtobufNodeDefEdit], deleted: Set<Int>, appending: [ProtobufNodeDef],
                       gap: ((Tensor, Int) -> Void)? = nil) throws {
        // Contents still to be computed (folded kernels), in the order they are written.
        let computed = nodeFields.indices.filter { !deleted.contains($0) }.flatMap { edits[$0]?.computedTensors.map(\.content) ?? [] }
        let gaps = try gap == nil ? nil : ComputedGaps(computed)
        let adapter = ProtobufCByteSink(sink, holes: gaps?.addresses ?? []) { hole, offset in gap?(computed[hole], offset) }
        let prefetcher = TensorPrefetcher(gap == nil ? computed : [])
        let lastNode = nodeFields.last ?? fields.count - 1
        try Self.withBytes(storage) { raw in
            var node = 0
            for (i, f) in fields.enumerated() {
                if f.number != 1 {
                    try copy(f.range, raw, to: sink)
                } else {
                    if deleted.contains(node) {
                        // Left out.
                    } else if let edit = edits[node] {
                        try writeEdited(f.payload, edit, place: "node #\(node)", raw: raw, adapter: adapter, sink: sink,
                                        prefetcher: prefetcher, gaps: gaps)
                    } else {
                        try copy(f.range, raw, to: sink)
                    }
                    node += 1
                }
                if i == lastNode {
                    for n in appending {
                        let built = ProtobufNodeDefCodec.build(n)
                        defer { tensorflow__node_def__free_unpacked(built, nil) }
                        try lend(storedContents(of: n)[...], to: built, raw: raw) { pack(built, adapter: adapter, sink: sink) }
                    }
                }
            }
        }
        if gaps != nil, adapter.holeOffsets.contains(where: { $0 == nil }) {
            throw CheckpointError(.writeFailed, file: file, problem: "a computed tensor content was never packed")
        }
    }

    /// Addresses that stand for contents still to be computed while the graph is packed: each in
    /// a reserved range of address space no one can read (protobuf-c hands a bytes field's pointer
    /// to the buffer without reading it; the buffer skips what it stands for).
    private final class ComputedGaps {
        /// The reserved range.
        private let base: UnsafeMutableRawPointer
        private let length: Int
        /// One address per content, in order.
        let addresses: [UnsafeRawPointer]
        /// The next content's position: the contents are met in the order given.
        private var next = 0

        init(_ contents: [Tensor]) throws {
            length = max(1, contents.reduce(0) { $0 + max(1, $1.count * $1.dtype.byteCount) })
            guard let reserved = mmap(nil, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), reserved != MAP_FAILED else {
                throw CheckpointError(.writeFailed, file: "", problem: "cannot reserve address space: \(String(cString: strerror(errno)))")
            }
            base = reserved
            var at = 0
            var addresses: [UnsafeRawPointer] = []
            for content in contents {
                addresses.append(UnsafeRawPointer(reserved + at))
                at += max(1, content.count * content.dtype.byteCount)
            }
            self.addresses = addresses
        }

        deinit { munmap(base, length) }

        /// The address standing for the next content (they are packed in the order given).
        func nextAddress() -> UnsafeRawPointer? {
            guard next < addresses.count else { return nil }
            defer { next += 1 }
            return addresses[next]
        }
    }

    /// A piece of a mapped file this large or larger is written from a mapping of its own, let go
    /// of once written, so that copying the file's untouched weights holds none of them in memory.
    static let lentPieceBytes = 1 << 20

    /// Appends the file's bytes in `range` to `sink`.
    private func copy(_ range: Range<Int>, _ raw: UnsafeRawBufferPointer, to sink: ByteSink) throws {
        if case .mapped(_, let mapped) = storage, range.count >= Self.lentPieceBytes {
            try mapped.withBytes(offset: range.lowerBound, count: range.count) { sink.append($0) }
        } else {
            sink.append(UnsafeRawBufferPointer(rebasing: raw[range]))
        }
    }

    /// Contents a NodeDef built from `node` must be lent where they lie in the file, by attribute position.
    private func storedContents(of node: ProtobufNodeDef) -> [(key: Int, value: Lent)] {
        node.attributes.enumerated().compactMap { i, attribute in
            guard case .tensor(let t) = attribute.value, let stored = t.stored else { return nil }
            return (i, .stored(stored))
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
                             adapter: ProtobufCByteSink, sink: ByteSink, prefetcher: TensorPrefetcher, gaps: ComputedGaps?) throws {
        let node: UnsafeMutablePointer<Tensorflow__NodeDef>
        // Contents to lend to the tree while it is packed, by attribute position.
        var lent = [Int: Lent]()
        if let replacement = edit.replacement {
            node = ProtobufNodeDefCodec.build(replacement)
            for (i, content) in storedContents(of: replacement) { lent[i] = content }
        } else {
            guard let (unpacked, contents) = unpackNode(payload, raw) else {
                throw CheckpointError(.malformed, file: file, place: place, problem: "not a valid tensorflow.NodeDef")
            }
            node = unpacked
            for (i, r) in contents { lent[i] = .stored(r) }
        }
        defer { tensorflow__node_def__free_unpacked(node, nil) }
        for (key, value) in edit.attributes {
            lent[ProtobufNodeDefCodec.setAttribute(of: node, key: key, to: value)] = nil
        }
        for (key, tensor) in edit.tensors {
            var bare = tensor
            bare.content = []
            bare.stored = nil
            guard let i = ProtobufNodeDefCodec.setTensor(of: node, attribute: key, to: bare) else {
                throw CheckpointError(.writeFailed, file: file, place: place, problem: "the node has no tensor attribute '\(key)'")
            }
            lent[i] = tensor.stored.map { .stored($0) } ?? .copied(tensor.content)
        }
        for (key, tensor, content) in edit.computedTensors {
            guard let i = ProtobufNodeDefCodec.setTensor(of: node, attribute: key, to: tensor) else {
                throw CheckpointError(.writeFailed, file: file, place: place, problem: "the node has no tensor attribute '\(key)'")
            }
            if let gaps {
                guard let address = gaps.nextAddress() else {
                    throw CheckpointError(.writeFailed, file: file, place: place, problem: "a computed tensor content has no gap")
                }
                lent[i] = .gap(address, content.count * content.dtype.byteCount)
            } else {
                lent[i] = .copied(try (prefetcher.take(content) ?? content.materialized()).bytes[...])
            }
        }
        if let inputs = edit.inputs { ProtobufNodeDefCodec.setInputs(of: node, to: inputs) }
        try lend(lent.sorted { $0.key < $1.key }[...], to: node, raw: raw) { pack(node, adapter: adapter, sink: sink) }
    }

    /// A tensor content lent to a tree while it is packed.
    private enum Lent {
        /// Bytes in memory.
        case copied(ArraySlice<UInt8>)
        /// A range of the file.
        case stored(Range<Int>)
        /// A content still to be computed: the address that stands for it, and its length.
        case gap(UnsafeRawPointer, Int)
    }

    /// Points each listed attribute tensor's `tensor_content` at its bytes while `body` runs, then
    /// clears it again (the tree must never free memory it does not own). A large range of a
    /// mapped file is lent from a mapping of its own, let go of afterwards.
    private func lend(_ items: ArraySlice<(key: Int, value: Lent)>, to node: UnsafeMutablePointer<Tensorflow__NodeDef>,
                      raw: UnsafeRawBufferPointer, _ body: () -> Void) throws {
        guard let (index, content) = items.first else { return body() }
        guard let tensor = node.pointee.attr[index]?.pointee.value?.pointee.tensor else {
            return try lend(items.dropFirst(), to: node, raw: raw, body)
        }
        func lending(_ buffer: UnsafeRawBufferPointer) throws {
            tensor.pointee.tensor_content = ProtobufCBinaryData(len: buffer.count,
                                                                data: UnsafeMutablePointer(mutating: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)))
            defer { tensor.pointee.tensor_content = ProtobufCBinaryData(len: 0, data: nil) }
            try lend(items.dropFirst(), to: node, raw: raw, body)
        }
        switch content {
        case .copied(let bytes):
            try bytes.withUnsafeBytes { try lending($0) }
        case .gap(let address, let count):
            try lending(UnsafeRawBufferPointer(start: address, count: count))
        case .stored(let range):
            if case .mapped(_, let mapped) = storage, range.count >= Self.lentPieceBytes {
                try mapped.withBytes(offset: range.lowerBound, count: range.count) { try lending($0) }
            } else {
                try lending(UnsafeRawBufferPointer(rebasing: raw[range]))
            }
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
