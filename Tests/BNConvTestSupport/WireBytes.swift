/// Builds protobuf wire bytes field by field, for crafted test inputs (deep nesting, splat
/// constants, long graphs) that no framework would write. Field numbers come from the project's
/// schemas/ (onnx.proto, graph.proto, node_def.proto, attr_value.proto, tensor.proto).
enum WireBytes {
    /// A base-128 varint.
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out: [UInt8] = []
        repeat {
            let byte = UInt8(v & 0x7F)
            v >>= 7
            out.append(v == 0 ? byte : byte | 0x80)
        } while v != 0
        return out
    }

    /// Field `number` as a varint (wire type 0).
    static func int(_ number: Int, _ value: Int64) -> [UInt8] {
        varint(UInt64(number) << 3) + varint(UInt64(bitPattern: value))
    }

    /// Field `number`, length-delimited (wire type 2): a nested message, string or bytes.
    static func bytes(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(UInt64(number) << 3 | 2) + varint(UInt64(payload.count)) + payload
    }

    /// Field `number` holding `text` as UTF-8.
    static func string(_ number: Int, _ text: String) -> [UInt8] { bytes(number, Array(text.utf8)) }

    // MARK: ONNX (schemas/onnx/onnx.proto)

    /// A ModelProto of IR version 8 and opset 13 around `graph` (GraphProto fields).
    static func onnxModel(graph: [UInt8]) -> [UInt8] {
        int(1, 8) + bytes(8, int(2, 13)) + bytes(7, graph)
    }

    /// A ValueInfoProto for a float tensor of `dims`.
    static func onnxValueInfo(_ name: String, dims: [Int64]) -> [UInt8] {
        let shape = dims.flatMap { bytes(1, int(1, $0)) }
        return string(1, name) + bytes(2, bytes(1, int(1, 1) + bytes(2, shape)))
    }

    /// A NodeProto.
    static func onnxNode(_ op: String, inputs: [String], outputs: [String], name: String, attributes: [UInt8] = []) -> [UInt8] {
        inputs.flatMap { string(1, $0) } + outputs.flatMap { string(2, $0) } + string(3, name) + string(4, op) + attributes
    }

    /// A TypeProto nested `depth` times through `sequence_type.elem_type` around a float tensor type.
    static func onnxNestedType(depth: Int) -> [UInt8] {
        var type = bytes(1, int(1, 1))
        for _ in 0..<depth { type = bytes(4, bytes(1, type)) }
        return type
    }

    /// A GraphProto whose one node is an `If` holding the graph one level down, `depth` levels.
    static func onnxNestedIf(depth: Int) -> [UInt8] {
        var graph = string(2, "leaf")
        for i in 0..<depth {
            let attribute = string(1, "then_branch") + int(20, 5) + bytes(6, graph)
            graph = bytes(1, onnxNode("If", inputs: ["c"], outputs: ["y\(i)"], name: "if\(i)", attributes: bytes(5, attribute))) + string(2, "g\(i)")
        }
        return graph
    }

    // MARK: TensorFlow GraphDef (schemas/tensorflow)

    /// A NodeDef as a GraphDef field (`node`, field 1).
    static func tfNode(_ name: String, op: String, inputs: [String] = [], attributes: [UInt8] = []) -> [UInt8] {
        bytes(1, string(1, name) + string(2, op) + inputs.flatMap { string(3, $0) } + attributes)
    }

    /// A NodeDef `attr` map entry (field 5) of `key` to the AttrValue bytes `value`.
    static func tfAttribute(_ key: String, _ value: [UInt8]) -> [UInt8] {
        bytes(5, string(1, key) + bytes(2, value))
    }

    /// A TensorShapeProto of `dims`.
    static func tfShape(_ dims: [Int64]) -> [UInt8] { dims.flatMap { bytes(2, int(1, $0)) } }

    /// A float Placeholder of `dims`.
    static func tfPlaceholder(_ name: String, dims: [Int64]) -> [UInt8] {
        tfNode(name, op: "Placeholder", attributes: tfAttribute("dtype", int(6, 1)) + tfAttribute("shape", bytes(7, tfShape(dims))))
    }

    /// A float Const of `dims` holding one `float_val`, which TensorFlow repeats to fill the shape.
    static func tfSplatConstant(_ name: String, dims: [Int64]) -> [UInt8] {
        let tensor = int(1, 1) + bytes(2, tfShape(dims)) + bytes(5, [0, 0, 0x80, 0x3F])
        return tfNode(name, op: "Const", attributes: tfAttribute("dtype", int(6, 1)) + tfAttribute("value", bytes(8, tensor)))
    }

    /// An AttrValue nested `depth` times through `func.attr` (NameAttrList field 2, a map).
    static func tfNestedFunctionAttribute(depth: Int) -> [UInt8] {
        var value = int(6, 1)
        for _ in 0..<depth { value = bytes(10, string(1, "f") + bytes(2, string(1, "a") + bytes(2, value))) }
        return value
    }
}
