import BNConvCore

/// ONNX's element type codes (`TensorProto.DataType`, onnx.proto), as Cast's `to` attribute
/// gives them, resolved to the dtypes the op library computes.
enum ONNXDataType {
    /// The dtype of ONNX data type `code`, or an error naming `op` for a type bnconv does not hold
    /// (strings, unsigned 16 to 64 bit, complex, 8-bit floats, 4-bit types).
    static func dtype(code: Int, op: String) throws -> DType {
        switch code {
        case 1: return .float32
        case 2: return .uint8
        case 3: return .int8
        case 5: return .int16
        case 6: return .int32
        case 7: return .int64
        case 9: return .bool
        case 10: return .float16
        case 11: return .float64
        case 16: return .bfloat16
        case 8: throw OpError.unsupported(op: op, reason: "to or from string")
        default: throw OpError.unsupported(op: op, reason: "to \(name(code: code))")
        }
    }

    /// The dtype named `name` as the string `to` attribute of Cast before opset 6 spells it
    /// ("FLOAT", "INT64", ...).
    static func dtype(name: String, op: String) throws -> DType {
        let codes = ["FLOAT": 1, "UINT8": 2, "INT8": 3, "UINT16": 4, "INT16": 5, "INT32": 6, "INT64": 7,
                     "STRING": 8, "BOOL": 9, "FLOAT16": 10, "DOUBLE": 11, "UINT32": 12, "UINT64": 13,
                     "COMPLEX64": 14, "COMPLEX128": 15, "BFLOAT16": 16]
        guard let code = codes[name.uppercased()] else {
            throw OpError.invalid(op: op, problem: "attribute 'to' names no ONNX type: '\(name)'")
        }
        return try dtype(code: code, op: op)
    }

    /// A readable name of data type `code` for messages.
    static func name(code: Int) -> String {
        let names = [4: "uint16", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128",
                     17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
                     21: "uint4", 22: "int4", 23: "float4e2m1", 0: "an undefined type"]
        return names[code] ?? "ONNX data type \(code)"
    }
}
