import BNConvCore
import BNConvModel
import BNConvInterop

/// A reference to a layer's output in a Keras config: `[layer_name, node_index, tensor_index]`
/// (Keras 2 inbound entries, Keras 3 `keras_history`, `input_layers`, `output_layers`).
struct KerasTensorRef: Equatable, Hashable, Sendable {
    /// The output indices a reference may name: 0 up to this bound (exclusive). Keras layers
    /// have a handful of outputs; the bound keeps a crafted index of 10^9 from sizing anything.
    static let maximumTensorIndex = 1024

    /// The layer's name.
    var layer: String
    /// Which call (node) of the layer, as the config counts it.
    var node: Int
    /// Which output of that call.
    var tensor: Int

    /// Reads `[name, node, tensor, ...]`.
    init?(_ value: JSONValue) {
        guard let items = value.arrayValue, items.count >= 3, let name = items[0].stringValue,
              let node = items[1].intValue, let tensor = items[2].intValue else { return nil }
        self.init(layer: name, node: node, tensor: tensor)
    }

    /// Creates a reference.
    init(layer: String, node: Int, tensor: Int) {
        self.layer = layer
        self.node = node
        self.tensor = tensor
    }

    /// The `[name, node, tensor]` triple.
    var json: JSONValue { .array([.string(layer), .integer(node), .integer(tensor)]) }
}
