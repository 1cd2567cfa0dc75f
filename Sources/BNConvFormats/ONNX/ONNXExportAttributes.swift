import BNConvCore
import BNConvModel
import BNConvInterop

/// Op-library attributes (``OpAttribute``) written as ONNX `AttributeProto`s.
///
/// bnconv writes INT, FLOAT, STRING, INTS and FLOATS attributes; a STRINGS or TENSOR attribute
/// is refused (the exporter writes a constant tensor as an initializer instead: a `Constant`
/// node's value, `ConstantOfShape`'s fill).
enum ONNXExportAttributes {
    /// The attributes of a node, sorted by name; throws ``ONNXExportRefusal`` for a kind bnconv does not write.
    static func attributes(_ values: [String: OpAttribute]) throws -> [ONNXProto.Attribute] {
        try values.keys.sorted().map { name in
            switch values[name]! {
            case .int(let v): return ONNXExportGraph.int(name, v)
            case .float(let v): return ONNXExportGraph.float(name, v)
            case .string(let v): return ONNXExportGraph.string(name, v)
            case .ints(let v): return ONNXExportGraph.ints(name, v)
            case .floats(let v):
                // FLOATS is AttributeType 6 (onnx.proto).
                return ONNXProto.Attribute(name: name, type: 6, floats: v.map { Float($0) })
            case .strings:
                throw ONNXExportRefusal("its attribute '\(name)' is a list of strings, which bnconv does not write")
            case .tensor:
                throw ONNXExportRefusal("its attribute '\(name)' is a tensor, which bnconv does not write")
            }
        }
    }

    /// ONNX's `TensorProto.DataType` code of `dtype` (Cast's `to`).
    static func typeCode(_ dtype: DType) -> Int {
        Int(ONNXTensorCodec.dataType(of: dtype))
    }
}
