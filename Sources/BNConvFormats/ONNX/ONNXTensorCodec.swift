import BNConvCore
import BNConvModel
import BNConvInterop

/// Turns ONNX `TensorProto`s into ``Tensor``s and back, and maps ONNX data types to ``DType``.
///
/// Facts (onnx/onnx `onnx/onnx.proto`, docs/formats.md, ONNX): `raw_data` holds fixed-width little-endian
/// elements; otherwise FLOAT uses `float_data`, DOUBLE `double_data`, INT64 `int64_data`, and
/// INT32/INT16/INT8/UINT8/BOOL as well as the bit patterns of FLOAT16 and BFLOAT16 use
/// `int32_data` (one element per int32). Data stored outside the file (`data_location = EXTERNAL`)
/// is refused with the tensor's name.
enum ONNXTensorCodec {
    /// The ``DType`` of an ONNX `TensorProto.DataType`, or `nil` for types bnconv does not read.
    static func dtype(of dataType: Int32) -> DType? {
        switch dataType {
        case ONNXProto.DataType.float: return .float32
        case ONNXProto.DataType.double: return .float64
        case ONNXProto.DataType.float16: return .float16
        case ONNXProto.DataType.bfloat16: return .bfloat16
        case ONNXProto.DataType.int8: return .int8
        case ONNXProto.DataType.uint8: return .uint8
        case ONNXProto.DataType.int16: return .int16
        case ONNXProto.DataType.int32: return .int32
        case ONNXProto.DataType.int64: return .int64
        case ONNXProto.DataType.bool: return .bool
        default: return nil
        }
    }

    /// The ONNX `TensorProto.DataType` of a ``DType``.
    static func dataType(of dtype: DType) -> Int32 {
        switch dtype {
        case .float32: return ONNXProto.DataType.float
        case .float64: return ONNXProto.DataType.double
        case .float16: return ONNXProto.DataType.float16
        case .bfloat16: return ONNXProto.DataType.bfloat16
        case .int8: return ONNXProto.DataType.int8
        case .uint8: return ONNXProto.DataType.uint8
        case .int16: return ONNXProto.DataType.int16
        case .int32: return ONNXProto.DataType.int32
        case .int64: return ONNXProto.DataType.int64
        case .bool: return ONNXProto.DataType.bool
        }
    }

    /// Decodes an initializer; `file` names the model in errors, `limits` bounds what it may
    /// allocate. A `raw_data` left in the file (``ONNXProto/Tensor/stored``) becomes a deferred
    /// tensor lent from `storage`, the file opened for mapping.
    static func decode(_ t: ONNXProto.Tensor, file: String, limits: ReadLimits, storage: MappedFile? = nil) throws -> Tensor {
        let place = "initializer '\(t.name)'"
        if t.isExternal {
            let location = t.externalLocation.map { " ('\($0)')" } ?? ""
            throw CheckpointError(.unsupported, file: file, place: place,
                                  problem: "its data is stored in an external file\(location); bnconv reads only self-contained .onnx files (load it with onnx.load and save with save_as_external_data=False)")
        }
        guard let dtype = dtype(of: t.dataType) else {
            throw CheckpointError(.unsupported, file: file, place: place,
                                  problem: "ONNX data type \(t.dataType) is not supported")
        }
        guard t.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
            throw CheckpointError(.malformed, file: file, place: place, problem: "invalid dims \(t.dims)")
        }
        let shape = t.dims.map { Int($0) }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow else {
            throw CheckpointError(.malformed, file: file, place: place, problem: "dims \(t.dims) overflow")
        }
        if let refusal = limits.refusal(count: count, elementBytes: dtype.byteCount) {
            throw CheckpointError(.malformed, file: file, place: place, problem: "dims \(t.dims): \(refusal)")
        }
        func mismatch(_ field: String, _ n: Int) -> CheckpointError {
            CheckpointError(.malformed, file: file, place: place,
                            problem: "dims \(t.dims) need \(count) elements but \(field) holds \(n)")
        }
        if let stored = t.stored {
            guard stored.count == count * dtype.byteCount else {
                throw mismatch("raw_data (\(stored.count) bytes)", stored.count / dtype.byteCount)
            }
            guard let storage else {
                throw CheckpointError(.malformed, file: file, place: place, problem: "the tensor's raw_data was left in a file that is not open")
            }
            return Tensor(dtype: dtype, shape: shape, source: FileRangeSource(file: storage, offset: stored.lowerBound, count: stored.count))
        }
        if let raw = t.rawData {
            guard raw.count == count * dtype.byteCount else { throw mismatch("raw_data (\(raw.count) bytes)", raw.count / dtype.byteCount) }
            return try Tensor(dtype: dtype, shape: shape, bytes: raw)
        }
        var bytes: [UInt8]
        switch dtype {
        case .float32:
            guard t.floatData.count == count else { throw mismatch("float_data", t.floatData.count) }
            bytes = t.floatData.withUnsafeBytes { Array($0) }
        case .float64:
            guard t.doubleData.count == count else { throw mismatch("double_data", t.doubleData.count) }
            bytes = t.doubleData.withUnsafeBytes { Array($0) }
        case .int64:
            guard t.int64Data.count == count else { throw mismatch("int64_data", t.int64Data.count) }
            bytes = t.int64Data.withUnsafeBytes { Array($0) }
        case .float16, .bfloat16, .int16:
            guard t.int32Data.count == count else { throw mismatch("int32_data", t.int32Data.count) }
            bytes = t.int32Data.map { UInt16(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
        case .int8, .uint8, .bool:
            guard t.int32Data.count == count else { throw mismatch("int32_data", t.int32Data.count) }
            bytes = t.int32Data.map { UInt8(truncatingIfNeeded: $0) }
        case .int32:
            guard t.int32Data.count == count else { throw mismatch("int32_data", t.int32Data.count) }
            bytes = t.int32Data.withUnsafeBytes { Array($0) }
        }
        return try Tensor(dtype: dtype, shape: shape, bytes: bytes)
    }
}
