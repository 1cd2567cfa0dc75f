import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// A Keras weight left in its HDF5 dataset until it is needed (a deferred ``Tensor``'s source).
///
/// The source keeps the file open; a contiguous, unfiltered dataset is lent from a read-only
/// mapping of the file (``MappedFile``) without a copy. The legacy writer recognises it: an unmodified weight whose
/// tensor still comes from here is copied dataset to dataset (H5Ocopy: bytes, layout, filters and
/// attributes as stored) instead of being read and written again.
///
/// Safe because a dataset lent from the mapping is read from an immutable mapping only, and one
/// read through libhdf5 (serial, not thread-safe) is read only on the thread that read the model,
/// which is also the only thread making libhdf5 calls for it: ``loadsConcurrently`` is false for
/// those, which the prefetcher and the concurrent writer honour, and ``loadBytes()`` checks the
/// thread, so a caller that moved the model elsewhere stops at once instead of racing libhdf5.
final class KerasDatasetSource: TensorSource, @unchecked Sendable {
    /// The open file (read-only; only read from, on ``owner``).
    let file: HDF5File
    /// The thread that read the model, the only one that may read ``file``.
    private let owner = pthread_self()
    /// The dataset's absolute path in the file.
    let path: String
    /// The user's file name, for errors.
    let userFile: String
    /// Where the bytes lie in the file when they can be lent from a mapping of it as stored.
    let raw: (file: MappedFile, offset: Int, count: Int)?
    /// The bounds the file is read within.
    let limits: ReadLimits

    /// The dataset at `path` of `file`; `userFile` names it in errors. With `raw`, ``withBytes(_:)``
    /// lends the stored bytes from a read-only mapping instead of reading them through HDF5. A read
    /// through HDF5 is checked against `limits`.
    init(file: HDF5File, path: String, userFile: String, raw: (file: MappedFile, offset: Int, count: Int)? = nil,
         limits: ReadLimits = ReadLimits()) {
        self.file = file
        self.path = path
        self.userFile = userFile
        self.raw = raw
        self.limits = limits
    }

    /// A dataset lent from the mapping reads no HDF5 and may be loaded on another thread; one read
    /// through the (serial) HDF5 library may not.
    var loadsConcurrently: Bool { raw != nil }

    /// Mapped datasets are lent where they lie in the file.
    var lendsInPlace: Bool { raw != nil }

    /// Lends the bytes: mapped from the file where they lie as stored, else read.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let raw else { return try loadBytes().withUnsafeBytes(body) }
        return try raw.file.withBytes(offset: raw.offset, count: raw.count, body)
    }

    /// Reads the whole dataset; an HDF5 failure becomes a ``CheckpointError`` naming the user's file.
    func loadBytes() throws -> [UInt8] {
        precondition(pthread_equal(pthread_self(), owner) != 0,
                     "bnconv: \(userFile): dataset \(path) read through libhdf5 from another thread than the one that read the model")
        do {
            return try file.root().dataset(path).readTensor(limits: limits).bytes
        } catch let error as HDF5Error {
            throw error.checkpointError(file: userFile)
        }
    }
}
