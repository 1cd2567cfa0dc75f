import BNConvCore

/// Swift copies of the parts of an unpacked `onnx.ModelProto` that the ONNX reader needs.
///
/// ``ONNXModelMessage/snapshot()`` fills them from protobuf-c's C structs, so code outside
/// Interop/ never sees a C type. Field meanings follow onnx/onnx `onnx/onnx.proto` (docs/formats.md, ONNX).
package enum ONNXProto {
    /// `TensorProto.DataType` numbers (onnx.proto).
    package enum DataType {
        package static let float: Int32 = 1
        package static let uint8: Int32 = 2
        package static let int8: Int32 = 3
        package static let int16: Int32 = 5
        package static let int32: Int32 = 6
        package static let int64: Int32 = 7
        package static let bool: Int32 = 9
        package static let float16: Int32 = 10
        package static let double: Int32 = 11
        package static let bfloat16: Int32 = 16
    }

    /// `AttributeProto.AttributeType` numbers (onnx.proto).
    package enum AttributeType {
        package static let float: Int32 = 1
        package static let int: Int32 = 2
        package static let string: Int32 = 3
        static let tensor: Int32 = 4
        static let floats: Int32 = 6
        package static let ints: Int32 = 7
    }

    /// A `TensorProto`: its name, type, dims and whichever data fields the file used.
    package struct Tensor: Sendable, Equatable {
        package var name: String
        package var dataType: Int32
        package var dims: [Int64]
        /// `raw_data`, when present (little-endian elements).
        package var rawData: [UInt8]?
        /// Where `raw_data` lies in the file when it was left there rather than copied
        /// (``ONNXMappedModel``); `rawData` is then nil.
        package var stored: Range<Int>?
        package var floatData: [Float] = []
        package var int32Data: [Int32] = []
        package var int64Data: [Int64] = []
        package var doubleData: [Double] = []
        package var uint64Data: [UInt64] = []
        /// `data_location == EXTERNAL`, or `external_data` entries present.
        package var isExternal: Bool = false
        /// The `location` entry of `external_data`, when there is one.
        package var externalLocation: String?

        /// Creates a value from each stored property (the memberwise initializer, across modules).
        package init(name: String, dataType: Int32, dims: [Int64], rawData: [UInt8]? = nil, floatData: [Float] = [], int32Data: [Int32] = [], int64Data: [Int64] = [], doubleData: [Double] = [], uint64Data: [UInt64] = [], isExternal: Bool = false, externalLocation: String? = nil) {
            self.name = name
            self.dataType = dataType
            self.dims = dims
            self.rawData = rawData
            self.floatData = floatData
            self.int32Data = int32Data
            self.int64Data = int64Data
            self.doubleData = doubleData
            self.uint64Data = uint64Data
            self.isExternal = isExternal
            self.externalLocation = externalLocation
        }
    }

    /// An `AttributeProto` with its scalar and list payloads.
    package struct Attribute: Sendable, Equatable {
        package var name: String
        package var type: Int32
        package var f: Float?
        package var i: Int64?
        package var s: [UInt8]?
        package var t: Tensor?
        package var floats: [Float] = []
        package var ints: [Int64] = []

        /// Creates a value from each stored property (the memberwise initializer, across modules).
        package init(name: String, type: Int32, f: Float? = nil, i: Int64? = nil, s: [UInt8]? = nil, t: Tensor? = nil, floats: [Float] = [], ints: [Int64] = []) {
            self.name = name
            self.type = type
            self.f = f
            self.i = i
            self.s = s
            self.t = t
            self.floats = floats
            self.ints = ints
        }
    }

    /// A `NodeProto`.
    package struct Node: Sendable, Equatable {
        package var name: String
        package var opType: String
        package var domain: String
        package var inputs: [String]
        package var outputs: [String]
        package var attributes: [Attribute]

        /// The attribute named `name`, if the node has it.
        package func attribute(_ name: String) -> Attribute? { attributes.first { $0.name == name } }

        /// Creates a value from each stored property (the memberwise initializer, across modules).
        package init(name: String, opType: String, domain: String, inputs: [String], outputs: [String], attributes: [Attribute]) {
            self.name = name
            self.opType = opType
            self.domain = domain
            self.inputs = inputs
            self.outputs = outputs
            self.attributes = attributes
        }
    }

    /// One dimension of a `TensorShapeProto`.
    package enum Dimension: Sendable, Equatable {
        /// `dim_value`.
        case value(Int64)
        /// `dim_param` (a symbolic size such as "N").
        case param(String)
        /// Neither set.
        case unknown
    }

    /// A `ValueInfoProto` with a tensor type (other types leave `elemType` nil).
    package struct ValueInfo: Sendable, Equatable {
        package var name: String
        package var elemType: Int32?
        /// `nil` when the type has no shape (unknown rank).
        package var dims: [Dimension]?

        /// Creates a value from each stored property (the memberwise initializer, across modules).
        package init(name: String, elemType: Int32? = nil, dims: [Dimension]? = nil) {
            self.name = name
            self.elemType = elemType
            self.dims = dims
        }
    }

    /// An `OperatorSetIdProto`.
    package struct OpsetImport: Sendable, Equatable {
        package var domain: String
        package var version: Int64

        /// Creates a value from each stored property (the memberwise initializer, across modules).
        package init(domain: String, version: Int64) {
            self.domain = domain
            self.version = version
        }
    }

    /// The model-level fields and the main graph.
    package struct Model: Sendable, Equatable {
        package var irVersion: Int64
        package var opsetImports: [OpsetImport]
        package var producerName: String
        package var graphName: String
        package var nodes: [Node]
        package var initializers: [Tensor]
        package var inputs: [ValueInfo]
        package var outputs: [ValueInfo]
        package var valueInfos: [ValueInfo]

        /// Creates a value from each stored property (the memberwise initializer, across modules).
        package init(irVersion: Int64, opsetImports: [OpsetImport], producerName: String, graphName: String, nodes: [Node], initializers: [Tensor], inputs: [ValueInfo], outputs: [ValueInfo], valueInfos: [ValueInfo]) {
            self.irVersion = irVersion
            self.opsetImports = opsetImports
            self.producerName = producerName
            self.graphName = graphName
            self.nodes = nodes
            self.initializers = initializers
            self.inputs = inputs
            self.outputs = outputs
            self.valueInfos = valueInfos
        }
    }
}
