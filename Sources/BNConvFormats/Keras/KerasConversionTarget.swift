import Foundation

/// A Keras file a Keras model can be written as besides the flavour it was read from
/// (`bnconv convert IN -o OUT`, chosen by OUT's name: ``forOutput(_:)``).
public enum KerasConversionTarget: String, Sendable, Equatable, CaseIterable {
    /// Keras TF-format weights, as tf_keras `model.save_weights("w.ckpt")` writes them: the tensor
    /// bundle `w.ckpt.index` + `w.ckpt.data-00000-of-00001` with object-based keys and the object
    /// graph, and the `checkpoint` state file; the architecture goes beside it (`w.json`) unless it
    /// came from an unchanged `--config`. tf_keras restores it with
    /// `model_from_json(...).load_weights("w.ckpt")`.
    case tensorFlowCheckpoint = "keras-tf-checkpoint"
    /// A Keras 2 full-model HDF5 file (`model_config` + `model_weights`), as tf_keras
    /// `model.save("m.h5")` writes it without optimizer state: `tf_keras.models.load_model`
    /// and `load_weights` both read it.
    case keras2H5 = "keras2-h5"

    /// The target an output path names: `.h5` / `.hdf5` a Keras 2 HDF5 model; `.ckpt`,
    /// `.ckpt-N` or `.index` a TF-format checkpoint (the prefix is the path without `.index`);
    /// `nil` for any other name.
    public static func forOutput(_ path: String) -> KerasConversionTarget? {
        let name = URL(fileURLWithPath: path).lastPathComponent.lowercased()
        if name.hasSuffix(".h5") || name.hasSuffix(".hdf5") { return .keras2H5 }
        if name.hasSuffix(".ckpt") || name.hasSuffix(".index") { return .tensorFlowCheckpoint }
        if let range = name.range(of: ".ckpt-", options: .backwards), !name[range.upperBound...].isEmpty,
           name[range.upperBound...].allSatisfy(\.isNumber) {
            return .tensorFlowCheckpoint
        }
        return nil
    }

    /// What a report calls the target.
    public var displayName: String {
        switch self {
        case .tensorFlowCheckpoint: return "Keras TF-format weights (checkpoint)"
        case .keras2H5: return "Keras 2 HDF5 model (.h5)"
        }
    }
}
