import BNConvCore
import BNConvModel
import BNConvFormats
import BNConvCalibration

extension CalibrationSet {
    /// The `.npy` arrays `files` as `model`'s calibration set: joined along N for a one-input
    /// model, one per input (in order) otherwise; `options` bound each read.
    init(files: [String], for model: Model, options: ReadOptions) throws {
        let arrays = try files.map { try NumPyFile.read($0, limits: options.limits, allowsSpecialFiles: options.allowsSpecialFiles) }
        if model.inputs.count == 1 {
            try self.init(concatenating: arrays)
            return
        }
        guard arrays.count == model.inputs.count else {
            throw CalibrationError.inputMismatch("the model has \(model.inputs.count) inputs (\(model.inputs.joined(separator: ", "))); give --data once per input, in order")
        }
        try self.init(inputs: arrays)
    }
}
