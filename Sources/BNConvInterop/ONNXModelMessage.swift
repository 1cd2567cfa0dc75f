import CBNConvProto
import CProtobufC
import Foundation
import BNConvCore

private typealias PB = ProtobufCAllocation

/// One `onnx.ModelProto` unpacked by protobuf-c, owned through the generic ``ProtobufMessage``,
/// read into Swift copies (``snapshot()``) and edited in place (``apply(_:)``).
///
/// Fields the project's schema (schemas/onnx/onnx.proto) leaves out are kept by protobuf-c as
/// unknown fields and packed back after the known ones, so ``serialized()`` of an untouched
/// message gives the file's bytes back. Edits go through ``apply(_:)``, which allocates every
/// replacement with `malloc` (protobuf-c's default allocator), so the final free stays valid
/// (docs/formats.md, protobuf-c).
package final class ONNXModelMessage {
    private let owner: ProtobufMessage
    private var message: UnsafeMutablePointer<Onnx__ModelProto> { owner.root(as: Onnx__ModelProto.self) }
    /// The file the bytes came from, for error messages.
    let file: String
    /// What the message was unpacked from, to unpack it again (nil for a tree built in Swift).
    package let origin: Origin?
    /// Initializers whose `raw_data` points into the file's mapping while the message lives
    /// (untouched ones of a mapped file), cleared before the tree is freed.
    private var lent: [UnsafeMutablePointer<Onnx__TensorProto>] = []
    /// Initializers whose `raw_data` is still to be computed (``ONNXGraphEdit/InitializerItem/computed(index:dataType:dims:content:)``),
    /// with what computes it; their `raw_data` is empty until the message is packed.
    private var pending: [(tensor: UnsafeMutablePointer<Onnx__TensorProto>, content: Tensor)] = []

    /// What a message is unpacked from.
    package enum Origin: Sendable {
        /// The file's bytes, held in memory.
        case bytes([UInt8])
        /// The file read where it lies, large initializer payloads left in it.
        case mapped(ONNXMappedModel)
    }

    /// Unpacks `bytes`; throws a `CheckpointError` (`.malformed`) naming the first wire-format
    /// problem when protobuf-c refuses them.
    package init(bytes: [UInt8], file: String) throws {
        self.file = file
        if let problem = withUnsafePointer(to: onnx__model_proto__descriptor, { ProtobufWireCheck.firstProblem(in: bytes, descriptor: $0) }) {
            throw CheckpointError(.malformed, file: file, problem: "not an ONNX model: \(problem)")
        }
        guard let owner = ProtobufMessage(bytes: bytes, unpack: { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) }) else {
            throw CheckpointError(.malformed, file: file,
                                  problem: "not an ONNX model: protobuf-c could not unpack its \(bytes.count) bytes as onnx.ModelProto")
        }
        self.owner = owner
        origin = .bytes(bytes)
    }

    /// Unpacks a file read where it lies (``ONNXMappedModel``): the cut initializers come without
    /// `raw_data`; ``snapshot()`` says where it lies, and writing lends it from the mapping.
    package init(mapped: ONNXMappedModel, file: String) throws {
        self.file = file
        guard let owner = ProtobufMessage(bytes: mapped.shadow, unpack: { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) }) else {
            throw CheckpointError(.malformed, file: file,
                                  problem: "not an ONNX model: protobuf-c could not unpack its \(mapped.file.size) bytes as onnx.ModelProto")
        }
        self.owner = owner
        origin = .mapped(mapped)
    }

    /// Unpacks the message again from what another one was unpacked from.
    package convenience init(origin: Origin, file: String) throws {
        switch origin {
        case .bytes(let bytes): try self.init(bytes: bytes, file: file)
        case .mapped(let mapped): try self.init(mapped: mapped, file: file)
        }
    }

    /// Wraps a tree built in Swift (``ONNXModelBuilder``); `file` names the target in errors.
    init(owner: ProtobufMessage, file: String) {
        self.owner = owner
        self.file = file
        origin = nil
    }

    deinit {
        // The tree must never free memory it does not own.
        for t in lent { t.pointee.raw_data = ProtobufCBinaryData(len: 0, data: nil) }
        for p in pending { p.tensor.pointee.raw_data = ProtobufCBinaryData(len: 0, data: nil) }
    }

    /// The message packed again by protobuf-c (contents still to be computed are computed first).
    package func serialized() throws -> [UInt8] {
        for p in pending {
            p.tensor.pointee.raw_data = PB.binary(try p.content.materialized().bytes)
        }
        pending = []
        return owner.packed()
    }

    /// How many nodes the main graph has (0 without a graph), known before any is read into Swift.
    package var nodeCount: Int { message.pointee.graph.map { Int($0.pointee.n_node) } ?? 0 }

    /// The message packed again by protobuf-c, straight into `sink` (the same bytes as
    /// ``serialized()``), but for the `raw_data` of initializers still to be computed: those are
    /// skipped (``ByteSink/skip(_:)``), and `gap` is told of each (what computes it, the offset
    /// where its bytes go in the sink's output) as it is skipped, for the caller to write there.
    package func serialize(to sink: ByteSink, gap: @escaping (Tensor, Int) -> Void = { _, _ in }) {
        guard !pending.isEmpty else {
            owner.pack(to: sink)
            return
        }
        // Each pending payload gets an address of its own in a reserved, inaccessible range that
        // stands for it: protobuf-c hands a bytes field's pointer to the buffer without reading it,
        // and the buffer skips what such a pointer stands for.
        let total = pending.reduce(0) { $0 + max(1, $1.content.count * $1.content.dtype.byteCount) }
        guard let reserved = mmap(nil, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), reserved != MAP_FAILED else {
            preconditionFailure("bnconv: cannot reserve \(total) bytes of address space: \(String(cString: strerror(errno)))")
        }
        defer { munmap(reserved, total) }
        var holes: [UnsafeRawPointer] = []
        var at = 0
        for p in pending {
            let count = p.content.count * p.content.dtype.byteCount
            holes.append(UnsafeRawPointer(reserved + at))
            p.tensor.pointee.raw_data = ProtobufCBinaryData(len: count, data: (reserved + at).assumingMemoryBound(to: UInt8.self))
            at += max(1, count)
        }
        let contents = pending.map(\.content)
        let adapter = ProtobufCByteSink(sink, holes: holes) { hole, offset in gap(contents[hole], offset) }
        let size = protobuf_c_message_get_packed_size(owner.base)
        let written = protobuf_c_message_pack_to_buffer(owner.base, adapter.buffer)
        precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
        for p in pending { p.tensor.pointee.raw_data = ProtobufCBinaryData(len: 0, data: nil) }
        precondition(adapter.holeOffsets.allSatisfy { $0 != nil }, "bnconv: protobuf-c did not pack a pending initializer's raw_data")
    }

    /// Swift copies of the model-level fields and the main graph; throws when there is no graph.
    package func snapshot() throws -> ONNXProto.Model {
        let m = message.pointee
        guard let graph = m.graph?.pointee else {
            throw CheckpointError(.malformed, file: file, place: "ModelProto", problem: "the model has no graph")
        }
        let opsets = PB.messages(m.opset_import, m.n_opset_import).map { o in
            ONNXProto.OpsetImport(domain: PB.string(o.pointee.domain),
                                  version: o.pointee.has_version != 0 ? o.pointee.version : 0)
        }
        return ONNXProto.Model(
            irVersion: m.has_ir_version != 0 ? m.ir_version : 0,
            opsetImports: opsets,
            producerName: PB.string(m.producer_name),
            graphName: PB.string(graph.name),
            nodes: PB.messages(graph.node, graph.n_node).map(ONNXModelMessage.node),
            initializers: PB.messages(graph.initializer, graph.n_initializer).enumerated().map { i, p in
                var t = ONNXModelMessage.tensor(p)
                if case .mapped(let mapped)? = origin, let range = mapped.cuts[i] { t.stored = range }
                return t
            },
            inputs: PB.messages(graph.input, graph.n_input).map(ONNXModelMessage.valueInfo),
            outputs: PB.messages(graph.output, graph.n_output).map(ONNXModelMessage.valueInfo),
            valueInfos: PB.messages(graph.value_info, graph.n_value_info).map(ONNXModelMessage.valueInfo))
    }

    // MARK: - Reading C structs

    private static func node(_ p: UnsafeMutablePointer<Onnx__NodeProto>) -> ONNXProto.Node {
        let n = p.pointee
        return ONNXProto.Node(name: PB.string(n.name), opType: PB.string(n.op_type), domain: PB.string(n.domain),
                              inputs: PB.strings(n.input, n.n_input), outputs: PB.strings(n.output, n.n_output),
                              attributes: PB.messages(n.attribute, n.n_attribute).map(attribute))
    }

    private static func attribute(_ p: UnsafeMutablePointer<Onnx__AttributeProto>) -> ONNXProto.Attribute {
        let a = p.pointee
        return ONNXProto.Attribute(
            name: PB.string(a.name), type: a.has_type != 0 ? Int32(bitPattern: a.type.rawValue) : 0,
            f: a.has_f != 0 ? a.f : nil, i: a.has_i != 0 ? a.i : nil, s: a.has_s != 0 ? PB.bytes(a.s) : nil,
            t: a.t.map(ONNXModelMessage.tensor), floats: PB.array(a.floats, a.n_floats), ints: PB.array(a.ints, a.n_ints))
    }

    private static func tensor(_ p: UnsafeMutablePointer<Onnx__TensorProto>) -> ONNXProto.Tensor {
        let t = p.pointee
        var value = ONNXProto.Tensor(name: PB.string(t.name), dataType: t.has_data_type != 0 ? t.data_type : 0,
                                     dims: PB.array(t.dims, t.n_dims),
                                     rawData: t.has_raw_data != 0 ? PB.bytes(t.raw_data) : nil)
        value.floatData = PB.array(t.float_data, t.n_float_data)
        value.int32Data = PB.array(t.int32_data, t.n_int32_data)
        value.int64Data = PB.array(t.int64_data, t.n_int64_data)
        value.doubleData = PB.array(t.double_data, t.n_double_data)
        value.uint64Data = PB.array(t.uint64_data, t.n_uint64_data)
        let entries = PB.messages(t.external_data, t.n_external_data)
        value.isExternal = (t.has_data_location != 0 && t.data_location.rawValue == 1) || !entries.isEmpty
        value.externalLocation = entries.first { PB.string($0.pointee.key) == "location" }.map { PB.string($0.pointee.value) }
        return value
    }

    private static func valueInfo(_ p: UnsafeMutablePointer<Onnx__ValueInfoProto>) -> ONNXProto.ValueInfo {
        let v = p.pointee
        var info = ONNXProto.ValueInfo(name: PB.string(v.name), elemType: nil, dims: nil)
        if let type = v.type, type.pointee.value_case.rawValue == 1, let tensorType = type.pointee.tensor_type {
            let tt = tensorType.pointee
            info.elemType = tt.has_elem_type != 0 ? tt.elem_type : nil
            if let shape = tt.shape {
                info.dims = PB.messages(shape.pointee.dim, shape.pointee.n_dim).map { d -> ONNXProto.Dimension in
                    switch d.pointee.value_case.rawValue {
                    case 1: return .value(d.pointee.dim_value)
                    case 2: return .param(PB.string(d.pointee.dim_param))
                    default: return .unknown
                    }
                }
            }
        }
        return info
    }

    // MARK: - Editing

    /// Rewrites the main graph as `edit` says: reuses listed original records (renaming node
    /// inputs/outputs and graph outputs, replacing initializer values), frees unlisted ones, and
    /// adds new nodes and initializers. Indices must come from this message's ``snapshot()``.
    package func apply(_ edit: ONNXGraphEdit) {
        guard let graph = message.pointee.graph else { return }
        var g = graph.pointee

        // Nodes.
        let oldNodes = PB.messages(g.node, g.n_node)
        var usedNodes = Set<Int>()
        let newNodes: [UnsafeMutablePointer<Onnx__NodeProto>] = edit.nodes.map { item in
            switch item {
            case let .original(index, inputs, outputs):
                let p = oldNodes[index]
                let firstUse = usedNodes.insert(index).inserted
                precondition(firstUse, "graph node \(index) listed twice in an edit")
                if PB.strings(p.pointee.input, p.pointee.n_input) != inputs {
                    PB.freeStrings(p.pointee.input, p.pointee.n_input)
                    (p.pointee.n_input, p.pointee.input) = PB.strings(inputs)
                }
                if PB.strings(p.pointee.output, p.pointee.n_output) != outputs {
                    PB.freeStrings(p.pointee.output, p.pointee.n_output)
                    (p.pointee.n_output, p.pointee.output) = PB.strings(outputs)
                }
                return p
            case .new(let node):
                return ONNXModelBuilder.node(node)
            }
        }
        for (i, p) in oldNodes.enumerated() where !usedNodes.contains(i) {
            onnx__node_proto__free_unpacked(p, nil)
        }
        free(g.node)
        (g.n_node, g.node) = PB.pointerArray(newNodes)

        // Initializers.
        let oldInits = PB.messages(g.initializer, g.n_initializer)
        var usedInits = Set<Int>()
        let newInits: [UnsafeMutablePointer<Onnx__TensorProto>] = edit.initializers.map { item in
            switch item {
            case .original(let index):
                let firstUse = usedInits.insert(index).inserted
                precondition(firstUse, "initializer \(index) listed twice in an edit")
                let p = oldInits[index]
                if case .mapped(let mapped)? = origin, let range = mapped.cuts[index] {
                    // Lent from the mapping while the message lives.
                    let bytes = mapped.bytes(range)
                    p.pointee.raw_data = ProtobufCBinaryData(len: bytes.count,
                                                             data: UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)))
                    p.pointee.has_raw_data = 1
                    lent.append(p)
                }
                return p
            case let .computed(index, dataType, dims, content):
                let firstUse = usedInits.insert(index).inserted
                precondition(firstUse, "initializer \(index) listed twice in an edit")
                let p = oldInits[index]
                ONNXModelMessage.setValues(p, dataType: dataType, dims: dims, rawData: [])
                free(p.pointee.raw_data.data)
                p.pointee.raw_data = ProtobufCBinaryData(len: 0, data: nil)
                pending.append((p, content))
                return p
            case let .replaced(index, dataType, dims, rawData):
                let firstUse = usedInits.insert(index).inserted
                precondition(firstUse, "initializer \(index) listed twice in an edit")
                let p = oldInits[index]
                ONNXModelMessage.setValues(p, dataType: dataType, dims: dims, rawData: rawData)
                return p
            case let .new(name, dataType, dims, rawData):
                let p = PB.allocate(Onnx__TensorProto.self)
                onnx__tensor_proto__init(p)
                p.pointee.name = strdup(name)
                ONNXModelMessage.setValues(p, dataType: dataType, dims: dims, rawData: rawData)
                return p
            }
        }
        for (i, p) in oldInits.enumerated() where !usedInits.contains(i) {
            onnx__tensor_proto__free_unpacked(p, nil)
        }
        free(g.initializer)
        (g.n_initializer, g.initializer) = PB.pointerArray(newInits)

        // Inputs, outputs, value infos.
        (g.n_input, g.input) = ONNXModelMessage.keep(g.input, g.n_input, edit.inputs)
        if !edit.newInputs.isEmpty {
            let all = PB.messages(g.input, g.n_input) + edit.newInputs.map(ONNXModelMessage.makeTensorValueInfo)
            free(g.input)
            (g.n_input, g.input) = PB.pointerArray(all)
        }
        (g.n_value_info, g.value_info) = ONNXModelMessage.keep(g.value_info, g.n_value_info, edit.valueInfos)
        let oldOutputs = PB.messages(g.output, g.n_output)
        for (index, name) in edit.outputs where PB.string(oldOutputs[index].pointee.name) != name {
            free(oldOutputs[index].pointee.name)
            oldOutputs[index].pointee.name = strdup(name)
        }
        (g.n_output, g.output) = ONNXModelMessage.keep(g.output, g.n_output, edit.outputs.map(\.index))
        if !edit.permutedShapes.isEmpty {
            for info in PB.messages(g.input, g.n_input) + PB.messages(g.output, g.n_output) {
                if let permutation = edit.permutedShapes[PB.string(info.pointee.name)] {
                    ONNXModelMessage.permuteShape(of: info, permutation)
                }
            }
        }
        graph.pointee = g
    }

    /// Reorders the dims of a tensor-typed value info's shape by `permutation` (left as it is when
    /// the value has no tensor shape of that rank: the plan only asks for shapes it read).
    private static func permuteShape(of info: UnsafeMutablePointer<Onnx__ValueInfoProto>, _ permutation: [Int]) {
        guard let type = info.pointee.type, type.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
              let tensor = type.pointee.tensor_type, let shape = tensor.pointee.shape,
              shape.pointee.n_dim == permutation.count, Set(permutation) == Set(0..<permutation.count),
              let dims = shape.pointee.dim else { return }
        let old = (0..<permutation.count).map { dims[$0] }
        for (i, from) in permutation.enumerated() { dims[i] = old[from] }
    }

    /// Keeps the listed entries of a repeated message field (freeing the others) in the given order.
    private static func keep<T>(_ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ n: Int,
                                _ indices: [Int]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) {
        let old = PB.messages(p, n)
        let kept = Set(indices)
        for (i, item) in old.enumerated() where !kept.contains(i) {
            PB.freeMessage(item)
        }
        let result = PB.pointerArray(indices.map { old[$0] })
        free(p)
        return result
    }

    /// Sets a tensor's type, dims and `raw_data`, clearing every typed data field.
    private static func setValues(_ p: UnsafeMutablePointer<Onnx__TensorProto>, dataType: Int32, dims: [Int64], rawData: [UInt8]) {
        free(p.pointee.dims)
        (p.pointee.n_dims, p.pointee.dims) = (dims.count, PB.copy(dims))
        p.pointee.has_data_type = 1
        p.pointee.data_type = dataType
        free(p.pointee.float_data); p.pointee.n_float_data = 0; p.pointee.float_data = nil
        free(p.pointee.int32_data); p.pointee.n_int32_data = 0; p.pointee.int32_data = nil
        free(p.pointee.int64_data); p.pointee.n_int64_data = 0; p.pointee.int64_data = nil
        free(p.pointee.double_data); p.pointee.n_double_data = 0; p.pointee.double_data = nil
        free(p.pointee.uint64_data); p.pointee.n_uint64_data = 0; p.pointee.uint64_data = nil
        free(p.pointee.raw_data.data)
        p.pointee.raw_data = PB.binary(rawData)
        p.pointee.has_raw_data = 1
    }

    /// A `ValueInfoProto` of a tensor type with fixed dims.
    private static func makeTensorValueInfo(_ input: (name: String, elemType: Int32, dims: [Int64])) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let dims = input.dims.map { d -> UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension> in
            let p = PB.allocate(Onnx__TensorShapeProto__Dimension.self)
            onnx__tensor_shape_proto__dimension__init(p)
            p.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
            p.pointee.dim_value = d
            return p
        }
        let shape = PB.allocate(Onnx__TensorShapeProto.self)
        onnx__tensor_shape_proto__init(shape)
        (shape.pointee.n_dim, shape.pointee.dim) = PB.pointerArray(dims)
        let tensor = PB.allocate(Onnx__TypeProto__Tensor.self)
        onnx__type_proto__tensor__init(tensor)
        tensor.pointee.has_elem_type = 1
        tensor.pointee.elem_type = input.elemType
        tensor.pointee.shape = shape
        let type = PB.allocate(Onnx__TypeProto.self)
        onnx__type_proto__init(type)
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensor
        let info = PB.allocate(Onnx__ValueInfoProto.self)
        onnx__value_info_proto__init(info)
        info.pointee.name = strdup(input.name)
        info.pointee.type = type
        return info
    }
}
