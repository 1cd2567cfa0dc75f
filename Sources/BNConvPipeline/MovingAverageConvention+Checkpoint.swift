import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvCalibration

/// The moving-average convention of the framework that wrote a model's file.
extension MovingAverageConvention {
    /// tf_keras for Keras 2 files (TF-format weights among them, and `.keras` archives in the Keras 2 dialect) and TensorFlow
    /// GraphDefs, Keras 3 for Keras 3 files, ONNX's own rule for ONNX models.
    public static func of(_ model: Model) -> MovingAverageConvention {
        switch model.format {
        case .keras2H5, .keras2WeightsH5, .kerasCheckpoint, .graphDef:
            return .tfKeras
        case .keras3LegacyH5, .keras3WeightsH5:
            return .keras3
        case .kerasZip:
            return (model.source as? KerasModelRecord)?.dialect == .keras2 ? .tfKeras : .keras3
        case .onnx:
            return .onnx
        }
    }
}
