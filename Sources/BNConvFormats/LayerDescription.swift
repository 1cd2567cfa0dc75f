import BNConvModel

/// What a format's node record tells a report about the layer beyond the ``Node``: the
/// framework's class name and the names the file lists for the weights. A format whose files
/// say such things conforms its node record; reports ask through this protocol.
public protocol LayerDescription: SourceRecord {
    /// The framework's class of the layer (`Conv2D`).
    var className: String { get }
    /// The name the file lists for the weight playing `role` (`bn/gamma:0`), if it lists one.
    func storedName(of role: WeightRole) -> String?
}
