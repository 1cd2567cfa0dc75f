import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads an ONNX model (`.onnx`, a serialized `onnx.ModelProto`) into a format-neutral ``Model``.
///
/// Graph inputs that are not initializers become `.input` nodes; every NodeProto becomes one node
/// (a `MatMul` whose only consumer adds an initializer bias becomes one `.dense` node with the
/// `Add`); initializers feeding weight slots become ``Weight``s whose `storageKey` is the
/// initializer's name. Each node keeps an ``ONNXNodeRecord`` and the model an ``ONNXModelRecord``,
/// so ``ONNXWriter`` writes untouched parts back byte for byte.
public enum ONNXReader {
    /// Reads the model at `path`. With `deferringFrom` (a byte count), a regular file is read
    /// where it lies, through a read-only mapping, and the initializers whose `raw_data` holds that
    /// many bytes or more stay in it until used (``Tensor/isDeferred``): a fold without
    /// verification never holds them all, and the writer computes the folded ones beside the
    /// packed message. The file must not change while the model holds them.
    public static func read(_ path: String, deferringFrom minimumBytes: Int? = nil, options: ReadOptions = ReadOptions()) throws -> Model {
        if let minimumBytes, let mapped = mappedFile(path) {
            let cut = try ONNXMappedModel(file: mapped, path: path, cuttingFrom: minimumBytes)
            let model = try read(message: try ONNXModelMessage(mapped: cut, file: path), file: path, storage: mapped, options: options)
            // The metadata read through the mapping is parsed: its pages need not stay mapped.
            cut.dropResidentPages()
            return model
        }
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path, limit: ProtobufWireCheck.maximumMessageBytes)
        } catch {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot read the file: \(error)")
        }
        return try read(bytes: bytes, file: path, options: options)
    }

    /// `path` opened for mapping when it is a regular file within protobuf's size limit (anything
    /// else is read into memory, with the errors that read gives).
    private static func mappedFile(_ path: String) -> MappedFile? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= ProtobufWireCheck.maximumMessageBytes,
              let mapped = MappedFile(path: path), mapped.size == Int(info.st_size) else { return nil }
        return mapped
    }

    /// Reads a model from the bytes of a `.onnx` file; `file` names it in errors.
    public static func read(bytes: [UInt8], file: String, options: ReadOptions = ReadOptions()) throws -> Model {
        try read(message: try ONNXModelMessage(bytes: bytes, file: file), file: file, storage: nil, options: options)
    }

    /// Reads the unpacked `message`; initializers left in the file are lent from `storage`.
    private static func read(message: ONNXModelMessage, file: String, storage: MappedFile?, options: ReadOptions) throws -> Model {
        if let refusal = options.limits.nodeRefusal(count: message.nodeCount) {
            throw CheckpointError(.unsupported, file: file, problem: refusal)
        }
        let proto = try message.snapshot()
        let opset = Int(proto.opsetImports.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 0)
        guard opset > 0 else {
            throw CheckpointError(.unsupported, file: file, place: "opset_import",
                                  problem: "the model imports no default-domain (ai.onnx) opset")
        }

        // Every initializer of a type bnconv reads is decoded (external data is refused here);
        // others (strings, unsigned 16/32/64-bit, 8-bit floats) stay as written, never weights.
        var initializers: [String: Tensor] = [:]
        for t in proto.initializers where ONNXTensorCodec.dtype(of: t.dataType) != nil || t.isExternal {
            initializers[t.name] = try ONNXTensorCodec.decode(t, file: file, limits: options.limits, storage: storage)
        }
        // Constant nodes (TorchScript exports use them for Reshape shapes, Clip bounds, even
        // weights) are read as constants too, so their readers see fixed values, not activations.
        let graphOutputs = Set(proto.outputs.map(\.name))
        var constants: [String: Int] = [:]
        for (i, node) in proto.nodes.enumerated() where node.opType == "Constant" && (node.domain.isEmpty || node.domain == "ai.onnx")
            && node.outputs.count == 1 && !graphOutputs.contains(node.outputs[0]) {
            if let tensor = try constantValue(node, file: file, limits: options.limits) {
                initializers[node.outputs[0]] = tensor
                constants[node.outputs[0]] = i
            }
        }
        let absorbed = Set(constants.values)
        let initializerNames = Set(proto.initializers.map(\.name)).union(constants.keys)
        var uses: [String: Int] = [:]
        for node in proto.nodes {
            for input in node.inputs where initializerNames.contains(input) { uses[input, default: 0] += 1 }
        }

        var values: [String: ValueInfo] = [:]
        for info in proto.inputs + proto.valueInfos + proto.outputs where !info.name.isEmpty {
            values[info.name] = valueInfo(info)
        }
        // Values no declaration types get the type their op writes (shape arithmetic is int64).
        var declared: [String: DType] = [:]
        for info in proto.inputs + proto.valueInfos + proto.outputs where !info.name.isEmpty && info.elemType != nil {
            declared[info.name] = values[info.name]?.dtype
        }
        let dtypes = ONNXTypeInference.dtypes(of: proto, declared: declared, initializers: initializers)
        let read = Set(proto.nodes.flatMap(\.inputs)).union(proto.outputs.map(\.name))
        let mapper = ONNXNodeMapper(initializers: initializers, initializerNames: initializerNames, initializerUses: uses,
                                    shapes: values.compactMapValues(\.shape), dtypes: dtypes,
                                    file: file, limits: options.limits, opset: opset, readValues: read)

        var nodes: [Node] = []
        nodes.reserveCapacity(proto.inputs.count + proto.nodes.count)
        var names = NameAllocator()
        func uniqueName(_ preferred: String, fallback: String) -> String {
            names.claim(preferred.isEmpty ? fallback : preferred)
        }

        let modelInputs = proto.inputs.map(\.name).filter { !initializerNames.contains($0) }
        for input in modelInputs {
            nodes.append(Node(name: uniqueName(input, fallback: "input"), op: .input, inputs: [], outputs: [input]))
        }

        // value -> indices of nodes reading it, to find MatMul + Add pairs.
        var consumers: [String: [Int]] = [:]
        for (i, node) in proto.nodes.enumerated() {
            for input in Set(node.inputs) where !input.isEmpty { consumers[input, default: []].append(i) }
        }
        var merged = absorbed
        for (i, node) in proto.nodes.enumerated() where !merged.contains(i) {
            var add: (node: ONNXProto.Node, index: Int)?
            if node.opType == "MatMul", node.outputs.count == 1, !graphOutputs.contains(node.outputs[0]),
               let readers = consumers[node.outputs[0]], readers.count == 1, readers[0] > i,
               mapper.canMerge(matMul: node, add: proto.nodes[readers[0]]) {
                add = (proto.nodes[readers[0]], readers[0])
                merged.insert(readers[0])
            }
            let mapped = mapper.map(node, index: i, mergingAdd: add)
            nodes.append(Node(name: uniqueName(node.name, fallback: "\(node.opType)_\(i)"), op: mapped.op,
                              inputs: mapped.inputs, outputs: mapped.outputs, weights: mapped.weights,
                              source: mapped.record))
        }
        for node in nodes {
            for v in node.inputs + node.outputs where values[v] == nil {
                values[v] = ValueInfo(name: v, dtype: dtypes[v] ?? .float32)
            }
        }

        // The shared finish step: validated; shapes the file's value_info leaves out are inferred
        // from the inputs'; ONNX activations of rank 3 to 5 are channels-first.
        return try ModelFinisher(layouts: .channelsFirst).finish(
            Model(name: proto.graphName, format: .onnx, inputs: modelInputs, outputs: proto.outputs.map(\.name),
                  nodes: consume nodes, values: consume values, source: ONNXModelRecord(origin: message.origin ?? .bytes([]), proto: proto, constants: constants)),
            file: file)
    }

    /// The tensor a `Constant` node holds (`value`, or `value_float(s)` / `value_int(s)` from
    /// opset 12), or `nil` for kinds bnconv does not read (sparse, string); `limits` bounds what it
    /// may allocate.
    static func constantValue(_ node: ONNXProto.Node, file: String, limits: ReadLimits) throws -> Tensor? {
        guard let attribute = node.attributes.first else { return nil }
        switch attribute.name {
        case "value":
            guard var t = attribute.t, ONNXTensorCodec.dtype(of: t.dataType) != nil else { return nil }
            t.name = node.outputs[0]
            return try ONNXTensorCodec.decode(t, file: file, limits: limits)
        case "value_float": return attribute.f.map { Tensor(shape: [], floats: [$0]) }
        case "value_floats": return Tensor(shape: [attribute.floats.count], floats: attribute.floats)
        case "value_int":
            guard let i = attribute.i else { return nil }
            return try Tensor(dtype: .int64, shape: [], bytes: withUnsafeBytes(of: i) { Array($0) })
        case "value_ints": return try Tensor(dtype: .int64, shape: [attribute.ints.count], bytes: attribute.ints.withUnsafeBytes { Array($0) })
        default: return nil
        }
    }

    /// A graph input/output/value_info as a ``ValueInfo``: symbolic dims are unknown (`nil`),
    /// and 3-D to 5-D activations are channels-first (ONNX's NCHW convention).
    static func valueInfo(_ info: ONNXProto.ValueInfo) -> ValueInfo {
        let shape: [Int?]? = info.dims.map { dims in
            dims.map { d -> Int? in
                if case .value(let v) = d, v >= 0 { return Int(v) }
                return nil
            }
        }
        let layout: DataLayout? = shape.flatMap { (3...5).contains($0.count) ? .channelsFirst : nil }
        let dtype = info.elemType.flatMap(ONNXTensorCodec.dtype(of:)) ?? .float32
        return ValueInfo(name: info.name, shape: shape, layout: layout, dtype: dtype)
    }
}
