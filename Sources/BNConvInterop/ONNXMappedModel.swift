import CBNConvProto
import CProtobufC
import BNConvCore

/// An `.onnx` file read where it lies: the file mapped whole (pages read when touched), and the
/// bytes protobuf-c unpacks with the main graph's large initializer payloads cut out, so that
/// nothing of the weights is copied to be read (``ONNXModelMessage/init(mapped:file:)``).
///
/// The cut: every `graph.initializer` (ModelProto field 7, GraphProto field 5) whose `raw_data`
/// (TensorProto field 9) holds at least the asked number of bytes is re-encoded without its
/// `raw_data` fields; the range of the last one (protobuf's last-one-wins for a bytes field) is
/// kept by initializer position. Everything else is kept byte for byte, so protobuf-c unpacks the
/// same tree but for those payloads, which are lent back from the mapping when the model is
/// written. A file with more than one `graph` field (protobuf would merge them) is not cut.
package final class ONNXMappedModel: Sendable {
    /// The file, opened for lending ranges of it.
    package let file: MappedFile
    /// The whole file, mapped.
    let mapping: FileMapping
    /// The message as protobuf-c unpacks it: the file without the cut payloads.
    let shadow: [UInt8]
    /// Where each cut `raw_data` lies in the file, by initializer position.
    let cuts: [Int: Range<Int>]

    /// Maps `file` and cuts the `raw_data` of `minimumBytes` or more out of its initializers; a
    /// malformed message is an error naming `path`, as ``ONNXModelMessage/init(bytes:file:)`` says it.
    package init(file: MappedFile, path: String, cuttingFrom minimumBytes: Int) throws {
        self.file = file
        mapping = try file.mapping(offset: 0, count: file.size)
        let raw = mapping.bytes
        if let problem = withUnsafePointer(to: onnx__model_proto__descriptor, { ProtobufWireCheck.firstProblem(in: raw, descriptor: $0) }) {
            throw CheckpointError(.malformed, file: path, problem: "not an ONNX model: \(problem)")
        }
        guard let top = ProtobufWire.fields(in: raw, 0..<raw.count) else {
            throw CheckpointError(.malformed, file: path, problem: "not an ONNX model: protobuf-c could not unpack its \(raw.count) bytes as onnx.ModelProto")
        }
        let graphs = top.filter { $0.number == 7 }
        guard graphs.count == 1, let graph = graphs.first, graph.wireType == 2, let fields = ProtobufWire.fields(in: raw, graph.payload) else {
            shadow = Array(raw)
            cuts = [:]
            return
        }
        var newGraph = [UInt8]()
        var cuts = [Int: Range<Int>]()
        var initializer = 0
        for f in fields {
            if f.number == 5, f.wireType == 2 {
                if let (shorter, content) = Self.cutRawData(f.payload, raw), content.count >= minimumBytes {
                    newGraph += ProtobufWire.lengthDelimitedHeader(field: 5, length: shorter.count) + shorter
                    cuts[initializer] = content
                } else {
                    newGraph += UnsafeRawBufferPointer(rebasing: raw[f.range])
                }
                initializer += 1
            } else {
                newGraph += UnsafeRawBufferPointer(rebasing: raw[f.range])
            }
        }
        var shadow = [UInt8]()
        for f in top {
            if f.number == 7 {
                shadow += ProtobufWire.lengthDelimitedHeader(field: 7, length: newGraph.count) + newGraph
            } else {
                shadow += UnsafeRawBufferPointer(rebasing: raw[f.range])
            }
        }
        self.shadow = shadow
        self.cuts = cuts
    }

    /// The TensorProto in `payload` without its `raw_data` fields, and the range of the last one's
    /// payload; nil when it has none (or is not a valid message, left to protobuf-c to refuse).
    private static func cutRawData(_ payload: Range<Int>, _ raw: UnsafeRawBufferPointer) -> ([UInt8], Range<Int>)? {
        guard let fields = ProtobufWire.fields(in: raw, payload), fields.contains(where: { $0.number == 9 && $0.wireType == 2 }) else {
            return nil
        }
        var out = [UInt8]()
        var content: Range<Int>?
        for f in fields {
            if f.number == 9 && f.wireType == 2 {
                content = f.payload
            } else {
                out += UnsafeRawBufferPointer(rebasing: raw[f.range])
            }
        }
        return content.map { (out, $0) }
    }

    /// The bytes of the file in `range`, where they lie (valid while this value lives).
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[range])
    }

    /// Lets go of the file's pages mapped so far (they stay in the page cache).
    package func dropResidentPages() { mapping.dropResidentPages() }
}
