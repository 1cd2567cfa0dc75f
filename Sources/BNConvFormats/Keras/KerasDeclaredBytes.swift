import BNConvCore
import BNConvModel
import BNConvInterop

/// The bytes a Keras HDF5 file's weight datasets declare, charged one dataset at a time before
/// it is read or deferred: their total may not pass `limits.totalAllowance(fileBytes:)` of the
/// HDF5 file (the `.h5`, or the `model.weights.h5` inside a `.keras`). A 95 KB file listing eight
/// never-written 1 GB gzip datasets (HDF5 reads them as the fill value) is refused at the first
/// dataset that passes the allowance, before any buffer is made.
final class KerasDeclaredBytes {
    private var declared = DeclaredBytes()
    private let limits: ReadLimits
    private let fileBytes: Int

    /// A tally for the HDF5 file `file` under `limits`.
    init(file: HDF5File, limits: ReadLimits) throws {
        self.limits = limits
        fileBytes = try file.size()
    }

    /// Adds `dataset`'s declared size and returns its extent (dtype, shape, bytes), so that the
    /// caller need not read it again; throws when the total passes the allowance.
    @discardableResult
    func charge(_ dataset: HDF5Dataset, creation: HDF5DatasetCreation) throws -> (dtype: DType, shape: [Int], byteCount: Int) {
        let extent = try dataset.extent(creation: creation, limits: limits)
        declared.add(count: extent.byteCount, elementBytes: 1)
        if let refusal = limits.totalRefusal("the weight datasets", declared: declared.total, fileBytes: fileBytes) {
            throw KerasConfigError(place: dataset.path, problem: refusal)
        }
        return extent
    }
}
