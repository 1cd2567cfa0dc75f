import CHDF5
import BNConvCore

/// An open HDF5 group, owning its `hid_t`.
package final class HDF5Group: HDF5Object {
    /// What a group member is.
    package enum MemberKind: Equatable {
        /// A group.
        case group
        /// A dataset.
        case dataset
        /// A named datatype or something else.
        case other
    }

    package let file: HDF5File
    package let path: String
    package let id: hid_t

    private init(id: hid_t, path: String, file: HDF5File) {
        self.id = id
        self.path = path
        self.file = file
    }

    deinit { H5Gclose(id) }

    /// Opens `name` under the object `parentId` (whose path is `parentPath`).
    static func open(in file: HDF5File, parentId: hid_t, parentPath: String, name: String) throws -> HDF5Group {
        let path = HDF5Library.join(parentPath.isEmpty ? "/" : parentPath, name)
        try requireLinksInside(parentId, name, file: file, parentPath: parentPath.isEmpty ? "/" : parentPath, operation: "open the group")
        let id = try HDF5Library.checked(H5Gopen2(parentId, name, chdf5_p_default()), file: file.name, path: path,
                                         "open the group")
        return HDF5Group(id: id, path: path, file: file)
    }

    /// Refuses a path whose links lead out of the file (HDF5 external links, user-defined links):
    /// each component of `name` under `locId` is checked before anything is opened through it, so
    /// another file is never opened (a model must not make bnconv read files beside it).
    static func requireLinksInside(_ locId: hid_t, _ name: String, file: HDF5File, parentPath: String, operation: String) throws {
        var prefix = ""
        for component in name.split(separator: "/", omittingEmptySubsequences: true) {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            if H5Lexists(locId, prefix, chdf5_p_default()) <= 0 {
                _ = HDF5Library.takeErrorMessage()
                return   // missing: the open that follows says so
            }
            if chdf5_link_leaves_file(locId, prefix) != 0 {
                _ = HDF5Library.takeErrorMessage()
                throw HDF5Error(file: file.name, path: HDF5Library.join(parentPath, prefix), operation: operation,
                                message: "the link leads to another file (an HDF5 external link); bnconv reads only what is inside the model file (h5copy -f ext copies the target into the file)")
            }
        }
    }

    /// The names of the direct members, in name order.
    package func memberNames() throws -> [String] {
        try hdf5LinkNames(of: id, file: file.name, path: path)
    }

    /// Whether `name` (which may contain `/`) resolves to an object, checking each component so
    /// a missing intermediate group is `false`, not an error. A link that leads out of the file is
    /// never followed: a path through one is `false`; the link itself exists (opening it is refused).
    package func contains(_ name: String) -> Bool {
        var prefix = ""
        let components = name.split(separator: "/", omittingEmptySubsequences: true)
        for (i, component) in components.enumerated() {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            if H5Lexists(id, prefix, chdf5_p_default()) <= 0 { return false }
            if chdf5_link_leaves_file(id, prefix) != 0 {
                _ = HDF5Library.takeErrorMessage()
                return i == components.count - 1
            }
        }
        return !prefix.isEmpty
    }

    /// The kind of the member `name`, or `nil` when it does not exist (``MemberKind/other`` for a
    /// link that leads out of the file, which is not followed).
    package func kind(of name: String) -> MemberKind? {
        guard contains(name) else { return nil }
        if chdf5_link_leaves_file(id, name) != 0 {
            _ = HDF5Library.takeErrorMessage()
            return .other
        }
        switch chdf5_object_type(id, name) {
        case Int32(H5O_TYPE_GROUP.rawValue): return .group
        case Int32(H5O_TYPE_DATASET.rawValue): return .dataset
        case -1:
            _ = HDF5Library.takeErrorMessage()
            return nil
        default: return .other
        }
    }

    /// Opens the group `name` (a relative path).
    package func group(_ name: String) throws -> HDF5Group {
        try HDF5Group.open(in: file, parentId: id, parentPath: path, name: name)
    }

    /// Opens the dataset `name` (a relative path).
    package func dataset(_ name: String) throws -> HDF5Dataset {
        try HDF5Dataset.open(in: self, name: name)
    }

    /// Creates the group `name`, and any missing intermediate groups.
    package func createGroup(_ name: String) throws -> HDF5Group {
        let lcpl = try HDF5Group.intermediateLinkList(file: file.name, path: path)
        let childPath = HDF5Library.join(path, name)
        let child = try HDF5Library.checked(H5Gcreate2(id, name, lcpl.id, chdf5_p_default(), chdf5_p_default()),
                                            file: file.name, path: childPath, "create the group")
        return HDF5Group(id: child, path: childPath, file: file)
    }

    /// Opens the group `name`, creating it (and its parents) when missing.
    package func openOrCreateGroup(_ name: String) throws -> HDF5Group {
        contains(name) ? try group(name) : try createGroup(name)
    }

    /// Creates a dataset holding `tensor` at `name` (intermediate groups created). The file type is
    /// `fileType`'s copy when given (to keep an original dataset's exact type), else the standard
    /// little-endian type of the tensor's dtype; bfloat16 also gets Keras's `dtype` attribute.
    @discardableResult
    package func createDataset(_ name: String, tensor: Tensor, creation: HDF5DatasetCreation = .contiguous) throws -> HDF5Dataset {
        try HDF5Dataset.create(in: self, name: name, tensor: tensor, creation: creation)
    }

    /// Creates a dataset at `name` for `shape` elements of `dtype`, unwritten.
    @discardableResult
    package func createDataset(_ name: String, dtype: DType, shape: [Int], creation: HDF5DatasetCreation = .contiguous) throws -> HDF5Dataset {
        try HDF5Dataset.create(in: self, name: name, dtype: dtype, shape: shape, creation: creation)
    }

    /// Copies the object `name` of `source` (a group or dataset, with attributes, layout and filters)
    /// to `destination` under this group, with H5Ocopy.
    package func copy(_ name: String, from source: HDF5Group, as destination: String) throws {
        let lcpl = try HDF5Group.intermediateLinkList(file: file.name, path: path)
        try HDF5Library.check(H5Ocopy(source.id, name, id, destination, chdf5_p_default(), lcpl.id),
                              file: file.name, path: HDF5Library.join(path, destination),
                              "copy '\(HDF5Library.join(source.path, name))' from \(source.file.name)")
    }

    /// A link-creation list that creates missing intermediate groups.
    static func intermediateLinkList(file: String, path: String) throws -> HDF5Handle {
        let lcpl = try HDF5Handle.make(H5Pcreate(chdf5_p_link_create()), .propertyList, file: file, path: path,
                                       "create a link-creation property list")
        try HDF5Library.check(H5Pset_create_intermediate_group(lcpl.id, 1), file: file, path: path,
                              "ask for intermediate groups")
        return lcpl
    }
}
