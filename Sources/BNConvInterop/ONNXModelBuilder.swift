import CBNConvProto
import CProtobufC
import Foundation
import BNConvCore

private typealias PB = ProtobufCAllocation

/// Builds a fresh `onnx.ModelProto` tree from Swift values (``ONNXProto/Model``), for the ONNX
/// exporter: no source file, every record new.
///
/// Every piece is `malloc`'d through ``ProtobufCAllocation`` and every message initialized by its
/// generated `*__init`, so the finished tree is owned by one ``ProtobufMessage`` and released by
/// `protobuf_c_message_free_unpacked` like an unpacked one (docs/formats.md, protobuf-c). Initializers
/// are written as `raw_data` (the typed `*_data` fields of ``ONNXProto/Tensor`` are ignored).
/// Attributes carry int, float, string, ints or floats payloads.
package enum ONNXModelBuilder {
    /// The model as an owned message; `file` names the target in errors.
    package static func build(_ model: ONNXProto.Model, file: String) -> ONNXModelMessage {
        let m = PB.allocate(Onnx__ModelProto.self)
        onnx__model_proto__init(m)
        m.pointee.has_ir_version = 1
        m.pointee.ir_version = model.irVersion
        if !model.producerName.isEmpty { m.pointee.producer_name = strdup(model.producerName) }
        let opsets = model.opsetImports.map { o -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> in
            let p = PB.allocate(Onnx__OperatorSetIdProto.self)
            onnx__operator_set_id_proto__init(p)
            p.pointee.domain = strdup(o.domain)
            p.pointee.has_version = 1
            p.pointee.version = o.version
            return p
        }
        (m.pointee.n_opset_import, m.pointee.opset_import) = PB.pointerArray(opsets)

        let g = PB.allocate(Onnx__GraphProto.self)
        onnx__graph_proto__init(g)
        g.pointee.name = strdup(model.graphName)
        (g.pointee.n_node, g.pointee.node) = PB.pointerArray(model.nodes.map(node))
        (g.pointee.n_initializer, g.pointee.initializer) = PB.pointerArray(model.initializers.map(tensor))
        (g.pointee.n_input, g.pointee.input) = PB.pointerArray(model.inputs.map(valueInfo))
        (g.pointee.n_output, g.pointee.output) = PB.pointerArray(model.outputs.map(valueInfo))
        (g.pointee.n_value_info, g.pointee.value_info) = PB.pointerArray(model.valueInfos.map(valueInfo))
        m.pointee.graph = g
        return ONNXModelMessage(owner: ProtobufMessage(adopting: m), file: file)
    }

    /// A `malloc`'d NodeProto (with its attributes) for `node`; also used by ``ONNXModelMessage``'s edits.
    static func node(_ node: ONNXProto.Node) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let p = PB.allocate(Onnx__NodeProto.self)
        onnx__node_proto__init(p)
        (p.pointee.n_input, p.pointee.input) = PB.strings(node.inputs)
        (p.pointee.n_output, p.pointee.output) = PB.strings(node.outputs)
        if !node.name.isEmpty { p.pointee.name = strdup(node.name) }
        p.pointee.op_type = strdup(node.opType)
        if !node.domain.isEmpty { p.pointee.domain = strdup(node.domain) }
        (p.pointee.n_attribute, p.pointee.attribute) = PB.pointerArray(node.attributes.map(attribute))
        return p
    }

    private static func attribute(_ a: ONNXProto.Attribute) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let p = PB.allocate(Onnx__AttributeProto.self)
        onnx__attribute_proto__init(p)
        p.pointee.name = strdup(a.name)
        p.pointee.has_type = 1
        p.pointee.type = Onnx__AttributeProto__AttributeType(rawValue: UInt32(bitPattern: a.type))
        if let f = a.f { p.pointee.has_f = 1; p.pointee.f = f }
        if let i = a.i { p.pointee.has_i = 1; p.pointee.i = i }
        if let s = a.s { p.pointee.has_s = 1; p.pointee.s = PB.binary(s) }
        (p.pointee.n_floats, p.pointee.floats) = (a.floats.count, PB.copy(a.floats))
        (p.pointee.n_ints, p.pointee.ints) = (a.ints.count, PB.copy(a.ints))
        return p
    }

    private static func tensor(_ t: ONNXProto.Tensor) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let p = PB.allocate(Onnx__TensorProto.self)
        onnx__tensor_proto__init(p)
        p.pointee.name = strdup(t.name)
        (p.pointee.n_dims, p.pointee.dims) = (t.dims.count, PB.copy(t.dims))
        p.pointee.has_data_type = 1
        p.pointee.data_type = t.dataType
        p.pointee.has_raw_data = 1
        p.pointee.raw_data = PB.binary(t.rawData ?? [])
        return p
    }

    private static func valueInfo(_ v: ONNXProto.ValueInfo) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let info = PB.allocate(Onnx__ValueInfoProto.self)
        onnx__value_info_proto__init(info)
        info.pointee.name = strdup(v.name)
        guard let elemType = v.elemType else { return info }
        let tensorType = PB.allocate(Onnx__TypeProto__Tensor.self)
        onnx__type_proto__tensor__init(tensorType)
        tensorType.pointee.has_elem_type = 1
        tensorType.pointee.elem_type = elemType
        if let dims = v.dims {
            let shape = PB.allocate(Onnx__TensorShapeProto.self)
            onnx__tensor_shape_proto__init(shape)
            let entries = dims.map { d -> UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension> in
                let p = PB.allocate(Onnx__TensorShapeProto__Dimension.self)
                onnx__tensor_shape_proto__dimension__init(p)
                switch d {
                case .value(let n):
                    p.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    p.pointee.dim_value = n
                case .param(let name):
                    p.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    p.pointee.dim_param = strdup(name)
                case .unknown:
                    break
                }
                return p
            }
            (shape.pointee.n_dim, shape.pointee.dim) = PB.pointerArray(entries)
            tensorType.pointee.shape = shape
        }
        let type = PB.allocate(Onnx__TypeProto.self)
        onnx__type_proto__init(type)
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensorType
        info.pointee.type = type
        return info
    }
}
