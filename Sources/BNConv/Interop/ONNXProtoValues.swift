/// Swift copies of the parts of an unpacked `onnx.ModelProto` that the ONNX reader needs.
///
/// ``ONNXModelMessage/snapshot()`` fills them from protobuf-c's C structs, so code outside
/// Interop/ never sees a C type. Field meanings follow onnx/onnx `onnx/onnx.proto` (formats.md 5).
enum ONNXProto {
    /// `TensorProto.DataType` numbers (onnx.proto).
    enum DataType {
        static let float: Int32 = 1
        static let uint8: Int32 = 2
        static let int8: Int32 = 3
        static let int16: Int32 = 5
        static let int32: Int32 = 6
        static let int64: Int32 = 7
        static let bool: Int32 = 9
        static let float16: Int32 = 10
        static let double: Int32 = 11
        static let bfloat16: Int32 = 16
    }

    /// `AttributeProto.AttributeType` numbers (onnx.proto).
    enum AttributeType {
        static let float: Int32 = 1
        static let int: Int32 = 2
        static let string: Int32 = 3
        static let tensor: Int32 = 4
        static let floats: Int32 = 6
        static let ints: Int32 = 7
    }

    /// A `TensorProto`: its name, type, dims and whichever data fields the file used.
    struct Tensor: Sendable, Equatable {
        var name: String
        var dataType: Int32
        var dims: [Int64]
        /// `raw_data`, when present (little-endian elements).
        var rawData: [UInt8]?
        var floatData: [Float] = []
        var int32Data: [Int32] = []
        var int64Data: [Int64] = []
        var doubleData: [Double] = []
        var uint64Data: [UInt64] = []
        /// `data_location == EXTERNAL`, or `external_data` entries present.
        var isExternal: Bool = false
        /// The `location` entry of `external_data`, when there is one.
        var externalLocation: String?
    }

    /// An `AttributeProto` with its scalar and list payloads.
    struct Attribute: Sendable, Equatable {
        var name: String
        var type: Int32
        var f: Float?
        var i: Int64?
        var s: [UInt8]?
        var t: Tensor?
        var floats: [Float] = []
        var ints: [Int64] = []
    }

    /// A `NodeProto`.
    struct Node: Sendable, Equatable {
        var name: String
        var opType: String
        var domain: String
        var inputs: [String]
        var outputs: [String]
        var attributes: [Attribute]

        /// The attribute named `name`, if the node has it.
        func attribute(_ name: String) -> Attribute? { attributes.first { $0.name == name } }
    }

    /// One dimension of a `TensorShapeProto`.
    enum Dimension: Sendable, Equatable {
        /// `dim_value`.
        case value(Int64)
        /// `dim_param` (a symbolic size such as "N").
        case param(String)
        /// Neither set.
        case unknown
    }

    /// A `ValueInfoProto` with a tensor type (other types leave `elemType` nil).
    struct ValueInfo: Sendable, Equatable {
        var name: String
        var elemType: Int32?
        /// `nil` when the type has no shape (unknown rank).
        var dims: [Dimension]?
    }

    /// An `OperatorSetIdProto`.
    struct OpsetImport: Sendable, Equatable {
        var domain: String
        var version: Int64
    }

    /// The model-level fields and the main graph.
    struct Model: Sendable, Equatable {
        var irVersion: Int64
        var opsetImports: [OpsetImport]
        var producerName: String
        var graphName: String
        var nodes: [Node]
        var initializers: [Tensor]
        var inputs: [ValueInfo]
        var outputs: [ValueInfo]
        var valueInfos: [ValueInfo]
    }
}
