import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// A safetensors file (huggingface/safetensors): named tensors plus optional string metadata.
///
/// Layout (huggingface/safetensors README, "Format"): 8 bytes little-endian unsigned header
/// length N; N bytes of UTF-8 JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]},
/// "__metadata__": {string: string}}`, padded with spaces so the data starts 8-byte aligned; then
/// the tensors' little-endian bytes, offsets relative to the first data byte, contiguous, covering
/// the whole buffer. Tensors are written in ``entries`` order.
public struct SafeTensorsFile: Equatable, Sendable {
    /// One named tensor.
    public struct Entry: Equatable, Sendable {
        /// The state-dict key.
        public var name: String
        /// The values.
        public var tensor: Tensor
        /// Creates an entry.
        public init(name: String, tensor: Tensor) {
            self.name = name
            self.tensor = tensor
        }
    }

    /// The tensors, in file order.
    public var entries: [Entry]
    /// The `__metadata__` strings.
    public var metadata: [String: String]

    /// Creates a file's contents.
    public init(entries: [Entry], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// The tensor named `name`.
    public subscript(name: String) -> Tensor? { entries.first { $0.name == name }?.tensor }

    /// The file's bytes; `file` names the target in errors (duplicate names, unsupported dtypes).
    public func serialized(file: String = "<memory>") throws -> [UInt8] {
        var header = JSONObject()
        if !metadata.isEmpty {
            header["__metadata__"] = .object(JSONObject(metadata.sorted { $0.key < $1.key }
                .map { JSONObject.Member(key: $0.key, value: .string($0.value)) }))
        }
        var offset = 0
        var seen = Set<String>()
        for entry in entries {
            guard entry.name != "__metadata__", seen.insert(entry.name).inserted else {
                throw CheckpointError(.unsupported, file: file, place: entry.name, problem: "the tensor name is used twice (or is reserved)")
            }
            let size = entry.tensor.bytes.count
            header[entry.name] = .object(JSONObject([
                .init(key: "dtype", value: .string(SafeTensorsFile.code(of: entry.tensor.dtype))),
                .init(key: "shape", value: .array(entry.tensor.shape.map { .integer($0) })),
                .init(key: "data_offsets", value: .array([.integer(offset), .integer(offset + size)])),
            ]))
            offset += size
        }
        var json = Array(JSONValue.object(header).serialized().utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for entry in entries { out.append(contentsOf: entry.tensor.bytes) }
        return out
    }

    /// Writes the file through ``AtomicFile`` (nothing is written on error).
    public func write(to path: String) throws {
        try AtomicFile.write(try serialized(file: path), to: path)
    }

    /// Parses a file's bytes, checking the header length, every dtype, shape and offset range and
    /// that the ranges tile the data; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws -> SafeTensorsFile {
        func bad(_ place: String, _ problem: String) -> CheckpointError {
            CheckpointError(.malformed, file: file, place: place, problem: problem)
        }
        guard bytes.count >= 8 else { throw bad("header", "the file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(bytes.count - 8) else { throw bad("header", "the header length \(n) runs past the end of the file") }
        let dataStart = 8 + Int(n)
        let text = String(decoding: bytes[8..<dataStart], as: UTF8.self)
        guard case .object(let header) = try JSONValue.parse(text) else { throw bad("header", "the header is not a JSON object") }
        var entries: [(begin: Int, entry: Entry)] = []
        var metadata: [String: String] = [:]
        let dataCount = bytes.count - dataStart
        for member in header.members {
            if member.key == "__metadata__" {
                for m in member.value.objectValue?.members ?? [] {
                    guard let s = m.value.stringValue else { throw bad("__metadata__", "metadata value '\(m.key)' is not a string") }
                    metadata[m.key] = s
                }
                continue
            }
            guard let code = member.value["dtype"]?.stringValue, let dtype = dtype(of: code) else {
                throw bad(member.key, "missing or unsupported dtype")
            }
            guard let shape = member.value["shape"]?.arrayValue?.compactMap(\.intValue),
                  let offsets = member.value["data_offsets"]?.arrayValue?.compactMap(\.intValue), offsets.count == 2,
                  shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataCount else {
                throw bad(member.key, "bad shape or data_offsets")
            }
            guard offsets[1] - offsets[0] == shape.reduce(1, *) * dtype.byteCount else {
                throw bad(member.key, "data_offsets cover \(offsets[1] - offsets[0]) bytes; dtype \(code) and shape \(shape) need \(shape.reduce(1, *) * dtype.byteCount)")
            }
            let tensor = try Tensor(dtype: dtype, shape: shape, bytes: Array(bytes[(dataStart + offsets[0])..<(dataStart + offsets[1])]))
            entries.append((offsets[0], Entry(name: member.key, tensor: tensor)))
        }
        // The ranges must tile the data buffer (as the reference implementation requires).
        var end = 0
        for (begin, entry) in entries.sorted(by: { $0.begin < $1.begin }) {
            guard begin == end else { throw bad(entry.name, "data_offsets leave a gap or overlap at byte \(end)") }
            end += entry.tensor.bytes.count
        }
        guard end == dataCount else { throw bad("data", "the tensors cover \(end) of the \(dataCount) data bytes") }
        return SafeTensorsFile(entries: entries.map(\.entry), metadata: metadata)
    }

    /// Reads and parses the file at `path`.
    public static func read(_ path: String) throws -> SafeTensorsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot read the file")
        }
        return try parse([UInt8](data), file: path)
    }

    /// The safetensors dtype code of a ``DType``.
    public static func code(of dtype: DType) -> String {
        switch dtype {
        case .float64: return "F64"
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    /// The ``DType`` of a safetensors dtype code, if bnconv has it.
    public static func dtype(of code: String) -> DType? {
        DType.allCases.first { self.code(of: $0) == code }
    }
}
