import BNConvCore
import BNConvModel
import BNConvInterop

/// Which Keras wrote a config: the two dialects differ in inbound nodes, input/output lists,
/// BN axis, dtype and InputLayer keys (docs/formats.md, Keras config JSON).
public enum KerasDialect: String, Sendable, Codable {
    /// tf-keras / Keras 2: `[[["conv", 0, 0, {}]]]` inbound nodes, nested `input_layers`.
    case keras2
    /// Keras 3: `{"args": [...__keras_tensor__...], "kwargs": {}}` inbound nodes, flat single `input_layers`.
    case keras3
}
