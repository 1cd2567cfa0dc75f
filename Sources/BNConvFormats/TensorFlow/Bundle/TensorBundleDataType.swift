import BNConvCore

/// The TensorFlow `DataType` numbers a tensor bundle stores (`tensorflow/core/framework/types.proto`)
/// and their names, for entries and messages. Reference types (+100) never occur in a bundle and
/// are not taken for their base type here (``TensorFlowDataType`` does that for graphs).
enum TensorBundleDataType {
    /// DT_STRING.
    static let string: Int32 = 7
    /// DT_VARIANT (encoded values with checksums of their own; copied, never decoded).
    static let variant: Int32 = 21

    /// The ``DType`` of `value`, or nil.
    static func dtype(_ value: Int32) -> DType? {
        guard value > 0, value < 100 else { return nil }
        return TensorFlowDataType.dtype(value)
    }

    /// `DT_NAME` for messages ("DT_FLOAT", "DT_COMPLEX64"), or "DataType N".
    static func name(_ value: Int32) -> String {
        let names: [Int32: String] = [
            0: "DT_INVALID", 1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16", 6: "DT_INT8",
            7: "DT_STRING", 8: "DT_COMPLEX64", 9: "DT_INT64", 10: "DT_BOOL", 11: "DT_QINT8", 12: "DT_QUINT8",
            13: "DT_QINT32", 14: "DT_BFLOAT16", 15: "DT_QINT16", 16: "DT_QUINT16", 17: "DT_UINT16", 18: "DT_COMPLEX128",
            19: "DT_HALF", 20: "DT_RESOURCE", 21: "DT_VARIANT", 22: "DT_UINT32", 23: "DT_UINT64",
        ]
        return names[value] ?? "DataType \(value)"
    }
}
