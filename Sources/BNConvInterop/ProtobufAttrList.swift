import BNConvCore

/// A Swift copy of `AttrValue.ListValue` (the kinds bnconv reads; tensors and functions are counted only).
package struct ProtobufAttrList: Sendable, Equatable {
    /// `s`.
    var strings: [[UInt8]] = []
    /// `i`.
    package var ints: [Int64] = []
    /// `f`.
    var floats: [Float] = []
    /// `b`.
    var bools: [Bool] = []
    /// `type`.
    package var types: [Int32] = []
    /// `shape` (`nil` entries for unknown rank).
    var shapes: [[Int64]?] = []
    /// How many `tensor` and `func` entries the list holds (not copied).
    var otherCount: Int = 0
}

extension ProtobufAttrList {
    /// A list of types (an `IdentityN`'s `T`).
    package init(types: [Int32]) {
        self.init()
        self.types = types
    }
}
