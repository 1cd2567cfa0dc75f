/// A Keras weight left in its HDF5 dataset until it is needed (a deferred ``Tensor``'s source).
///
/// The source keeps the file open. The legacy writer recognises it: an unmodified weight whose
/// tensor still comes from here is copied dataset to dataset (H5Ocopy: bytes, layout, filters and
/// attributes as stored) instead of being read and written again.
final class KerasDatasetSource: TensorSource, @unchecked Sendable {
    /// The open file (read-only; only read from, on the thread that uses the model).
    let file: HDF5File
    /// The dataset's absolute path in the file.
    let path: String
    /// The user's file name, for errors.
    let userFile: String

    /// The dataset at `path` of `file`; `userFile` names it in errors.
    init(file: HDF5File, path: String, userFile: String) {
        self.file = file
        self.path = path
        self.userFile = userFile
    }

    /// Reads the whole dataset; an HDF5 failure becomes a ``CheckpointError`` naming the user's file.
    func loadBytes() throws -> [UInt8] {
        do {
            return try file.root().dataset(path).readTensor().bytes
        } catch let error as HDF5Error {
            throw error.checkpointError(file: userFile)
        }
    }
}
