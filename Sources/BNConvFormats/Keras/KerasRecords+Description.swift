import BNConvModel

extension KerasModelRecord: CheckpointDescription {
    /// Keras.
    public var framework: String? { "Keras" }
    /// The `keras_version` the file (or the archive's metadata.json) names.
    public var frameworkVersion: String? { kerasVersion }
    /// `keras2` or `keras3`.
    public var configDialect: String? { dialect.rawValue }
}

extension KerasLayerRecord: LayerDescription {
    /// The `weight_names` entry (Keras 3: the variable path) of the weight playing `role`.
    public func storedName(of role: WeightRole) -> String? { storedNames[role.rawValue] }
}
