import CHDF5
import BNConvCore

/// Owns a short-lived libhdf5 identifier (a datatype, dataspace or property list) and closes it
/// in `deinit` with the matching close call.
final class HDF5Handle {
    /// Which close call the identifier needs.
    enum Kind {
        /// A datatype (`H5Tclose`).
        case datatype
        /// A dataspace (`H5Sclose`).
        case dataspace
        /// A property list (`H5Pclose`).
        case propertyList
    }

    /// The identifier.
    let id: hid_t
    /// What it is.
    let kind: Kind

    /// Takes ownership of `id`.
    init(_ id: hid_t, _ kind: Kind) {
        self.id = id
        self.kind = kind
    }

    deinit {
        switch kind {
        case .datatype: H5Tclose(id)
        case .dataspace: H5Sclose(id)
        case .propertyList: H5Pclose(id)
        }
    }

    /// Takes ownership of `id` or throws the HDF5 error stack when it is negative.
    static func make(_ id: hid_t, _ kind: Kind, file: String, path: String, _ operation: @autoclosure () -> String) throws -> HDF5Handle {
        HDF5Handle(try HDF5Library.checked(id, file: file, path: path, operation()), kind)
    }

    /// A scalar or simple dataspace for `shape` (`nil` = scalar).
    static func dataspace(shape: [Int]?, file: String, path: String) throws -> HDF5Handle {
        HDF5Library.prepare()
        guard let shape else {
            return try make(H5Screate(H5S_SCALAR), .dataspace, file: file, path: path, "create a scalar dataspace")
        }
        var dims = shape.map { hsize_t($0) }
        return try make(H5Screate_simple(Int32(shape.count), &dims, nil), .dataspace, file: file, path: path,
                        "create a dataspace of shape \(shape)")
    }

    /// The dimensions of a dataspace; `[]` for a scalar.
    static func shape(ofSpace space: hid_t, file: String, path: String) throws -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space)
        try HDF5Library.check(rank, file: file, path: path, "read a dataspace rank")
        if rank == 0 { return [] }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        try HDF5Library.check(H5Sget_simple_extent_dims(space, &dims, nil), file: file, path: path, "read a dataspace shape")
        return dims.map { Int($0) }
    }
}
