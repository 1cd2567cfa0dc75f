import BNConvCore
import BNConvModel

extension CheckpointError {
    /// What a writer says about a model that records no ``Model/asRead`` outline (no reader
    /// finished it), so that nothing tells which of its parts a pass changed.
    static func noReadOutline(file: String) -> CheckpointError {
        CheckpointError(.unsupported, file: file, problem:
            "the model does not record how it was read (Model.asRead), so what a pass changed cannot be told; only a model a reader built can be written back")
    }
}
