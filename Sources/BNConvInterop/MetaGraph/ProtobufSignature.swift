import CBNConvProto
import CProtobufC
import BNConvCore

/// A SignatureDef of a MetaGraphDef (`serving_default`): its named input and output tensors.
package struct ProtobufSignature: Sendable, Equatable {
    /// One tensor of a signature (TensorInfo).
    package struct TensorInfo: Sendable, Equatable {
        /// The signature's key for it (`input_1`, `output_0`).
        package var key: String
        /// The graph tensor (`serving_default_input_1:0`); empty for sparse or composite tensors.
        package var name: String
        /// The TensorFlow DataType number.
        package var dtype: Int32
        /// The dimensions (-1 unknown); nil for unknown rank.
        package var shape: [Int64]?
    }

    /// The signature's key in the MetaGraphDef (`serving_default`).
    package var key: String
    /// Its inputs, sorted by key.
    package var inputs: [TensorInfo]
    /// Its outputs, sorted by key.
    package var outputs: [TensorInfo]
    /// `tensorflow/serving/predict`, ...
    package var methodName: String

    /// A Swift copy of `s`, stored under `key`.
    init(key: String, _ s: Tensorflow__SignatureDef) {
        self.key = key
        func info(_ key: UnsafeMutablePointer<CChar>?, _ value: UnsafeMutablePointer<Tensorflow__TensorInfo>?) -> TensorInfo {
            let v = value?.pointee
            let name = v.flatMap { $0.encoding_case == TENSORFLOW__TENSOR_INFO__ENCODING_NAME ? ProtobufCAllocation.string($0.name) : nil } ?? ""
            return TensorInfo(key: ProtobufCAllocation.string(key), name: name, dtype: Int32(v?.dtype.rawValue ?? 0),
                              shape: v?.tensor_shape.flatMap { ProtobufNodeDefCodec.dims($0) })
        }
        inputs = ProtobufCAllocation.messages(s.inputs, s.n_inputs).map { info($0.pointee.key, $0.pointee.value) }.sorted { $0.key < $1.key }
        outputs = ProtobufCAllocation.messages(s.outputs, s.n_outputs).map { info($0.pointee.key, $0.pointee.value) }.sorted { $0.key < $1.key }
        methodName = ProtobufCAllocation.string(s.method_name)
    }
}
