import BNConvCore
import BNConvModel
import BNConvInterop

/// What a Keras writer needs to re-emit one node: which layer (and call) of which container it
/// came from, what its variables were called and where they were stored.
public struct KerasLayerRecord: SourceRecord {
    /// The Keras layer name (without the nested-model prefix the node name carries).
    public var layerName: String
    /// The layer class (`Conv2D`, ...).
    public var className: String
    /// The names of the nested models the layer sits in, outermost first (empty at top level).
    public var containerPath: [String]
    /// Which call of the layer this node is (0 unless the layer is shared).
    public var callIndex: Int
    /// The stored name of each weight (`weight_names` entry), by role.
    public var storedNames: [String: String]
    /// The Keras 3 store group (`/layers/conv2d`), for `.keras` and `.weights.h5`.
    public var storeGroup: String?
}

extension KerasLayerRecord {
    /// The weights of `node` its layer keeps as variables in the weights file: all of them, but
    /// for a `TFOpLambda`, whose constant operands the config holds (`KerasOpLambdaConstants`).
    static func storedWeights(of node: Node) -> [Weight] {
        (node.source as? KerasLayerRecord)?.className == KerasOpLambdaMapper.className ? [] : node.weights
    }
}
