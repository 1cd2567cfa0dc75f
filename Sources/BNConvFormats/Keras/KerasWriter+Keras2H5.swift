import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras 2 full-model `.h5` files written from a model read from another Keras file (Keras TF-format
/// weights, a weights-only `.h5`, a tf_keras `.keras`): ``KerasConversionTarget/keras2H5``.
extension KerasWriter {
    /// The `keras_version` written into a Keras 2 HDF5 model whose source names none (any 2.x
    /// tells tf_keras the weights need no Keras 1 conversion).
    static let fallbackKeras2Version = "2.15.0"

    /// Writes `model`, read from any Keras file in the Keras 2 (tf_keras) dialect, as a Keras 2
    /// full-model `.h5` (``KerasConversionTarget/keras2H5``): root attributes `backend`,
    /// `keras_version` and `model_config` (the architecture, rewritten for the passes' edits),
    /// `model_weights` with `layer_names` in `model.layers` order and each layer's `weight_names`,
    /// as tf_keras `model.save("m.h5")` writes them (without the optimizer). A model read from a
    /// Keras 2 `.h5` keeps its own attributes (`training_config` among them).
    static func writeKeras2H5(_ model: Model, changes: ModelChanges?, to path: String) throws {
        if path.lowercased().hasSuffix(".weights.h5") {
            throw CheckpointError(.unsupported, file: path, problem:
                "tf_keras loads a file named .weights.h5 as a Keras 3 weights store, not as the Keras 2 HDF5 model written here; name the output .h5")
        }
        guard let record = model.source as? KerasModelRecord else {
            throw CheckpointError(.unsupported, file: path, problem: "a Keras 2 HDF5 model is written from a Keras model; this one was read from \(model.format.displayName) (export to .onnx instead)")
        }
        guard record.dialect == .keras2 else {
            throw CheckpointError(.unsupported, file: path, problem: "a Keras 2 HDF5 model is what tf_keras loads, but this model's config is Keras 3, which tf_keras cannot rebuild; convert with --layout to keep its own format")
        }
        var converted = model
        converted.source = record.format == .keras2H5 ? record : keras2H5Record(from: record)
        converted.format = .keras2H5
        try write(converted, changes: changes ?? ModelChanges(model), to: path, configPath: nil)
    }

    /// `record` (a Keras 2 dialect model read from a weights-only file, an archive or a TF-format
    /// checkpoint) made the record of a Keras 2 full-model `.h5`: the root and `model_weights`
    /// attributes tf_keras writes, `layer_names` from the config when the source listed none,
    /// and an empty `top_level_model_weights`.
    private static func keras2H5Record(from record: KerasModelRecord) -> KerasModelRecord {
        var out = record
        let version = record.kerasVersion ?? record.config?["keras_version"]?.stringValue ?? fallbackKeras2Version
        let backend = record.config?["backend"]?.stringValue ?? "tensorflow"
        out.format = .keras2H5
        out.kerasVersion = version
        out.rootAttributes = [
            KerasNamedAttribute(name: "backend", value: .strings([backend], .variableUTF8, shape: [])),
            KerasNamedAttribute(name: "keras_version", value: .strings([version], .variableUTF8, shape: [])),
            KerasNamedAttribute(name: "model_config", value: .strings([""], .variableASCII, shape: [])),
        ]
        out.weightsGroupAttributes = [
            KerasNamedAttribute(name: "backend", value: .strings([backend], .variableASCII, shape: [])),
            KerasNamedAttribute(name: "keras_version", value: .strings([version], .variableASCII, shape: [])),
        ]
        if out.layerNames.isEmpty, let container = record.container {
            out.layerNames = container.isSequential
                ? container.layers.filter { $0.className != "InputLayer" }.map(\.name)
                : KerasLayerOrder.layers(of: container)
        }
        if out.topLevelWeights == nil { out.topLevelWeights = [] }
        return out
    }
}
