import BNConvCore
import BNConvModel
import BNConvInterop

/// Turns a GraphDef `TensorProto` into a ``Tensor`` and back.
///
/// Reading follows TensorFlow's `Tensor::FromProto` (tensorflow/core/framework/tensor.cc,
/// `FromProtoField`): `tensor_content` holds raw little-endian row-major bytes; otherwise the typed
/// list for the dtype is used, and a list shorter than the shape repeats its LAST value to fill it,
/// while an empty list means zeros. DT_HALF and DT_BFLOAT16 are bit patterns in `half_val`'s int32
/// slots. Writing always uses `tensor_content`, which every TensorFlow reader accepts.
enum GraphDefTensorCodec {
    /// The most elements one constant may hold (2^31, 8 GiB of float32): a guard against shapes
    /// that would overflow or exhaust memory when a short value list is expanded.
    static let maxElements = 1 << 31

    /// The tensor a `TensorProto` holds; `place` names the node for errors, `limits` bounds what
    /// it may allocate. A content left in the file (``ProtobufTensorProto/stored``) is read from
    /// `storage` (the file opened for mapping): lent as it lies, a deferred tensor, when
    /// `deferring`, else copied.
    static func decode(_ proto: ProtobufTensorProto, file: String, place: String, limits: ReadLimits,
                       storage: MappedFile? = nil, deferring: Bool = false) throws -> Tensor {
        guard let dtype = TensorFlowDataType.dtype(proto.dtype) else {
            throw CheckpointError(.unsupported, file: file, place: place,
                                  problem: "tensor of TensorFlow data type \(proto.dtype) is not supported")
        }
        guard let dims = proto.shape else {
            throw CheckpointError(.malformed, file: file, place: place, problem: "constant tensor has unknown rank")
        }
        guard dims.allSatisfy({ $0 >= 0 }) else {
            throw CheckpointError(.malformed, file: file, place: place, problem: "constant tensor has unknown dimensions \(dims)")
        }
        let shape = dims.map { Int($0) }
        guard let count = ElementCount.of(shape, atMost: maxElements) else {
            throw CheckpointError(.unsupported, file: file, place: place,
                                  problem: "constant tensor of shape \(shape) is too large (more than \(maxElements) elements)")
        }
        if let refusal = limits.refusal(count: count, elementBytes: dtype.byteCount) {
            throw CheckpointError(.unsupported, file: file, place: place, problem: "constant tensor of shape \(shape): \(refusal)")
        }
        if let stored = proto.stored {
            guard stored.count == count * dtype.byteCount else {
                throw CheckpointError(.malformed, file: file, place: place, problem:
                    "tensor_content has \(stored.count) bytes but shape \(shape) of \(dtype.rawValue) needs \(count * dtype.byteCount)")
            }
            guard let storage else {
                throw CheckpointError(.malformed, file: file, place: place, problem: "the tensor's content was left in a file that is not open")
            }
            let tensor = Tensor(dtype: dtype, shape: shape, source: FileRangeSource(file: storage, offset: stored.lowerBound, count: stored.count))
            return deferring ? tensor : try tensor.materialized()
        }
        if !proto.content.isEmpty {
            guard proto.content.count == count * dtype.byteCount else {
                throw CheckpointError(.malformed, file: file, place: place, problem:
                    "tensor_content has \(proto.content.count) bytes but shape \(shape) of \(dtype.rawValue) needs \(count * dtype.byteCount)")
            }
            return try Tensor(dtype: dtype, shape: shape, bytes: FreshMemory.copy(proto.content))
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(count * dtype.byteCount)
        func fill<T>(_ values: [T], _ zero: T, _ append: (T) -> Void) throws {
            guard values.count <= count || count == 0 else {
                throw CheckpointError(.malformed, file: file, place: place,
                                      problem: "tensor lists \(values.count) values for shape \(shape)")
            }
            for i in 0..<count { append(i < values.count ? values[i] : (values.last ?? zero)) }
        }
        func put<T>(_ v: T) { withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) } }
        switch dtype {
        case .float32: try fill(proto.floatValues, 0) { put($0.bitPattern.littleEndian) }
        case .float64: try fill(proto.doubleValues, 0) { put($0.bitPattern.littleEndian) }
        case .float16, .bfloat16: try fill(proto.halfValues, 0) { put(UInt16(truncatingIfNeeded: $0).littleEndian) }
        case .int32: try fill(proto.intValues, 0) { put($0.littleEndian) }
        case .int16: try fill(proto.intValues, 0) { put(Int16(truncatingIfNeeded: $0).littleEndian) }
        case .int8: try fill(proto.intValues, 0) { put(Int8(truncatingIfNeeded: $0)) }
        case .uint8: try fill(proto.intValues, 0) { put(UInt8(truncatingIfNeeded: $0)) }
        case .int64: try fill(proto.int64Values, 0) { put($0.littleEndian) }
        case .bool: try fill(proto.boolValues, false) { put(UInt8($0 ? 1 : 0)) }
        }
        return try Tensor(dtype: dtype, shape: shape, bytes: bytes)
    }

    /// A `TensorProto` holding `tensor` in `tensor_content`, with dimensions `dims`
    /// (the stored shape, which may differ from the tensor's when only the element count matches).
    static func encode(_ tensor: Tensor, dims: [Int]? = nil) -> ProtobufTensorProto {
        ProtobufTensorProto(dtype: TensorFlowDataType.value(tensor.dtype),
                            shape: (dims ?? tensor.shape).map(Int64.init), content: tensor.bytes[...])
    }
}
