import BNConvCore
import BNConvInterop

/// How a Keras reader leaves large weights in their HDF5 file until they are used (``Tensor/isDeferred``):
/// the user's file name, the smallest dataset deferred, and where the HDF5 file's bytes can be
/// lent from without a copy.
///
/// A `.h5` is mapped as a whole (`baseOffset` 0); a STORED `model.weights.h5` of a `.keras` is
/// `length` bytes from `baseOffset` of the archive's mapping. Without a mapping (a deflated
/// member, inflated into memory) deferred weights are read through libhdf5 when used.
struct KerasWeightDeferral {
    /// The user's file name, for errors.
    var file: String
    /// Datasets of at least this many bytes are deferred.
    var minimumBytes: Int
    /// The file holding the HDF5 file's bytes, opened for mapping.
    var mapping: MappedFile?
    /// Where the HDF5 file starts in `mapping`.
    var baseOffset = 0
    /// How many bytes of `mapping` from `baseOffset` belong to the HDF5 file (nil: the whole file,
    /// whose end ``MappedFile`` checks when a range is lent).
    var length: Int?

    /// A deferred tensor for `dataset` (whose ``HDF5Dataset/extent(creation:limits:)`` and
    /// creation properties are given, checked already), or nil when it is smaller than
    /// ``minimumBytes``. Its bytes are lent from the mapping when they lie there as stored, in
    /// the HDF5 file's own range (a dataset said to lie past it is read through libhdf5, which refuses
    /// it); else read through libhdf5 when used.
    func tensor(for dataset: HDF5Dataset, extent: (dtype: DType, shape: [Int], byteCount: Int), creation: HDF5DatasetCreation,
                in file: HDF5File, limits: ReadLimits) -> Tensor? {
        guard extent.byteCount >= minimumBytes else { return nil }
        let raw = mapping.flatMap { mapping -> (file: MappedFile, offset: Int, count: Int)? in
            guard let offset = dataset.rawFileOffset(dtype: extent.dtype, byteCount: extent.byteCount, creation: creation),
                  length.map({ offset <= $0 - extent.byteCount }) ?? true else { return nil }
            return (mapping, baseOffset + offset, extent.byteCount)
        }
        return Tensor(dtype: extent.dtype, shape: extent.shape,
                      source: KerasDatasetSource(file: file, path: dataset.path, userFile: self.file, raw: raw, limits: limits))
    }
}
