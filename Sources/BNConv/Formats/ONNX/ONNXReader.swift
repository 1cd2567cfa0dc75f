import Foundation

/// Reads an ONNX model (`.onnx`, a serialized `onnx.ModelProto`) into a format-neutral ``Model``.
///
/// Graph inputs that are not initializers become `.input` nodes; every NodeProto becomes one node
/// (a `MatMul` whose only consumer adds an initializer bias becomes one `.dense` node with the
/// `Add`); initializers feeding weight slots become ``Weight``s whose `storageKey` is the
/// initializer's name. Each node keeps an ``ONNXNodeRecord`` and the model an ``ONNXModelRecord``,
/// so ``ONNXWriter`` writes untouched parts back byte for byte.
public enum ONNXReader {
    /// Reads the model at `path`.
    public static func read(_ path: String) throws -> Model {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointError(.cannotOpen, file: path, problem: "cannot read the file: \((error as NSError).localizedDescription)")
        }
        return try read(bytes: [UInt8](data), file: path)
    }

    /// Reads a model from the bytes of a `.onnx` file; `file` names it in errors.
    public static func read(bytes: [UInt8], file: String) throws -> Model {
        let proto = try ONNXModelMessage(bytes: bytes, file: file).snapshot()
        let opset = Int(proto.opsetImports.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 0)
        guard opset > 0 else {
            throw CheckpointError(.unsupported, file: file, place: "opset_import",
                                  problem: "the model imports no default-domain (ai.onnx) opset")
        }

        var initializers: [String: Tensor] = [:]
        for t in proto.initializers {
            initializers[t.name] = try ONNXTensorCodec.decode(t, file: file)
        }
        var uses: [String: Int] = [:]
        for node in proto.nodes {
            for input in node.inputs where initializers[input] != nil { uses[input, default: 0] += 1 }
        }

        var values: [String: ValueInfo] = [:]
        for info in proto.inputs + proto.valueInfos + proto.outputs where !info.name.isEmpty {
            values[info.name] = valueInfo(info)
        }
        let mapper = ONNXNodeMapper(initializers: initializers, initializerUses: uses,
                                    shapes: values.compactMapValues(\.shape), opset: opset)

        var nodes: [Node] = []
        var usedNames = Set<String>()
        func uniqueName(_ preferred: String, fallback: String) -> String {
            var name = preferred.isEmpty ? fallback : preferred
            var n = 1
            while usedNames.contains(name) {
                name = "\(preferred.isEmpty ? fallback : preferred)_\(n)"
                n += 1
            }
            usedNames.insert(name)
            return name
        }

        let modelInputs = proto.inputs.map(\.name).filter { initializers[$0] == nil }
        for input in modelInputs {
            nodes.append(Node(name: uniqueName(input, fallback: "input"), op: .input, inputs: [], outputs: [input]))
        }

        // value -> indices of nodes reading it, to find MatMul + Add pairs.
        var consumers: [String: [Int]] = [:]
        for (i, node) in proto.nodes.enumerated() {
            for input in Set(node.inputs) where !input.isEmpty { consumers[input, default: []].append(i) }
        }
        let graphOutputs = Set(proto.outputs.map(\.name))
        var merged = Set<Int>()
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
                values[v] = ValueInfo(name: v)
            }
        }

        let model = Model(name: proto.graphName, format: .onnx, inputs: modelInputs, outputs: proto.outputs.map(\.name),
                          nodes: nodes, values: values, source: ONNXModelRecord(bytes: bytes, proto: proto))
        do {
            try model.validate()
        } catch let error as ModelError {
            throw CheckpointError(.malformed, file: file, place: "graph '\(proto.graphName)'", problem: error.description)
        }
        return model
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
