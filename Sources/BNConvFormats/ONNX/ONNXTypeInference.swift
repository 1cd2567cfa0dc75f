import BNConvCore
import BNConvModel
import BNConvInterop

/// The element type of every value of an ONNX graph: declared ones (graph inputs, outputs,
/// value_info) as declared, initializers as stored, and the rest from the op that writes them
/// (ONNX's type constraints, onnx/onnx `docs/Operators.md`): `Shape` writes int64, comparisons
/// bool, `Cast` its `to`, most ops their first input's type.
///
/// The node mapper uses it to keep the float32 CNN ops to float32 values: a shape computation's
/// `Sub` or `Concat` of int64 values goes to the op library.
enum ONNXTypeInference {
    /// Every value's dtype that is declared or can be inferred.
    static func dtypes(of proto: ONNXProto.Model, declared: [String: DType], initializers: [String: Tensor]) -> [String: DType] {
        var types = declared
        for (name, tensor) in initializers { types[name] = tensor.dtype }
        for node in proto.nodes where node.domain.isEmpty || node.domain == "ai.onnx" {
            guard let out = outputType(node, types) else { continue }
            for o in node.outputs where !o.isEmpty && types[o] == nil { types[o] = out }
        }
        return types
    }

    /// The type of `node`'s (first) output, when its op says it.
    private static func outputType(_ node: ONNXProto.Node, _ types: [String: DType]) -> DType? {
        func input(_ k: Int) -> DType? { k < node.inputs.count && !node.inputs[k].isEmpty ? types[node.inputs[k]] : nil }
        let a = ONNXAttributes(node: node)
        if TensorOp.boolResults.contains(node.opType) { return .bool }
        switch node.opType {
        case "Shape", "Size", "NonZero", "ArgMax", "ArgMin":
            return .int64
        case "Cast":
            return a.int("to").flatMap { ONNXTensorCodec.dtype(of: Int32(truncatingIfNeeded: $0)) }
        case "CastLike":
            return input(1)
        case "Constant":
            if let t = node.attribute("value")?.t { return ONNXTensorCodec.dtype(of: t.dataType) }
            if a.has("value_int") || a.has("value_ints") { return .int64 }
            return .float32
        case "ConstantOfShape":
            if let t = node.attribute("value")?.t { return ONNXTensorCodec.dtype(of: t.dataType) }
            return .float32
        case "Where":
            return input(1)
        case "OneHot":
            return input(2)
        default:
            return node.inputs.lazy.filter { !$0.isEmpty }.compactMap { types[$0] }.first
        }
    }
}
