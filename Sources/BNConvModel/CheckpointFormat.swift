import BNConvCore

/// The file format and flavour a ``Model`` was read from, and so the one it is written back in.
public enum CheckpointFormat: String, Sendable, Codable, CaseIterable {
    /// Keras 2 (tf-keras) full-model `.h5`: `model_config` + `model_weights`.
    case keras2H5 = "keras2-h5"
    /// Keras 2 (tf-keras) weights-only `.h5` (`save_weights`).
    case keras2WeightsH5 = "keras2-weights-h5"
    /// Keras 3 legacy full-model `.h5` (`model.save("x.h5")` in Keras 3).
    case keras3LegacyH5 = "keras3-legacy-h5"
    /// Keras 3 `.keras` zip (config.json + model.weights.h5); tf-keras 2.13+ writes it too.
    case kerasZip = "keras-zip"
    /// Keras 3 `.weights.h5` (H5IOStore layout).
    case keras3WeightsH5 = "keras3-weights-h5"
    /// Keras TF-format weights: the tensor-bundle checkpoint tf_keras `model.save_weights("w.ckpt")`
    /// writes (`w.ckpt.index` + `w.ckpt.data-*`, object-based keys), paired with the architecture.
    case kerasCheckpoint = "keras-tf-checkpoint"
    /// TensorFlow frozen GraphDef `.pb`.
    case graphDef = "tf-graphdef"
    /// ONNX ModelProto `.onnx`.
    case onnx = "onnx"

    /// A human name for reports.
    public var displayName: String {
        switch self {
        case .keras2H5: return "Keras 2 HDF5 model (.h5)"
        case .keras2WeightsH5: return "Keras 2 HDF5 weights (.h5)"
        case .keras3LegacyH5: return "Keras 3 legacy HDF5 model (.h5)"
        case .kerasZip: return "Keras v3 archive (.keras)"
        case .keras3WeightsH5: return "Keras 3 weights (.weights.h5)"
        case .kerasCheckpoint: return "Keras TF-format weights (checkpoint)"
        case .graphDef: return "TensorFlow frozen GraphDef (.pb)"
        case .onnx: return "ONNX model (.onnx)"
        }
    }

    /// Whether the file holds weights only (no architecture).
    public var isWeightsOnly: Bool { self == .keras2WeightsH5 || self == .keras3WeightsH5 || self == .kerasCheckpoint }
}
