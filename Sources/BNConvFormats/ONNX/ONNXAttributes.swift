import BNConvCore
import BNConvModel
import BNConvInterop

/// Typed access to a NodeProto's attributes with ONNX's defaults applied by the caller.
struct ONNXAttributes {
    /// The node's attributes.
    let node: ONNXProto.Node

    /// An INT attribute.
    func int(_ name: String) -> Int? { node.attribute(name)?.i.map { Int($0) } }
    /// A FLOAT attribute, widened to Double from the stored float32.
    func float(_ name: String) -> Double? { node.attribute(name)?.f.map { Double($0) } }
    /// An INTS attribute.
    func ints(_ name: String) -> [Int]? { node.attribute(name).map { $0.ints.map { Int($0) } } }
    /// A STRING attribute decoded as UTF-8.
    func string(_ name: String) -> String? {
        node.attribute(name)?.s.map { String(decoding: $0, as: UTF8.self) }
    }
    /// Whether the attribute is present at all.
    func has(_ name: String) -> Bool { node.attribute(name) != nil }
}
