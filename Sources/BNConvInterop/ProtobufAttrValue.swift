import BNConvCore

/// A Swift copy of a TensorFlow `AttrValue` (its `value` oneof).
package enum ProtobufAttrValue: Sendable, Equatable {
    /// `s`: bytes (usually UTF-8 text such as `"NHWC"`).
    case bytes([UInt8])
    /// `i`.
    case int(Int64)
    /// `f` (float32 on the wire).
    case float(Float)
    /// `b`.
    case bool(Bool)
    /// `type`: a `DataType` enum value.
    case type(Int32)
    /// `shape`: dimensions, `nil` for unknown rank.
    case shape([Int64]?)
    /// `tensor`.
    case tensor(ProtobufTensorProto)
    /// `list`.
    case list(ProtobufAttrList)
    /// `placeholder`: the name of a function attribute.
    case placeholder(String)
    /// `func`: a function name (its attributes are not copied).
    case function(String)
    /// No member of the oneof is set.
    case unset

    /// The text of a `bytes` value.
    package var string: String? {
        if case .bytes(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }
}
