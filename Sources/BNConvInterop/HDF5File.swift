import CHDF5
import Foundation
import BNConvCore

/// An open HDF5 file (on disk or an in-memory image through the core driver), owning its `hid_t`.
///
/// Groups, datasets and attributes opened from it keep it alive. ``close()`` reports a failed
/// close (a write that could not be flushed); `deinit` closes silently if it was not called.
package final class HDF5File {
    /// The name used in errors: the path as given, or the image's name (`x.keras/model.weights.h5`).
    package let name: String
    /// The file identifier; negative once closed.
    private(set) var id: hid_t
    /// Whether the file was opened for writing.
    let isWritable: Bool
    /// Whether raw data goes to the file at once (no sieve buffer; see ``create(_:overwrite:unbufferedRawData:)``).
    package let hasUnbufferedRawData: Bool

    private init(id: hid_t, name: String, writable: Bool, unbufferedRawData: Bool = false) {
        self.id = id
        self.name = name
        self.isWritable = writable
        self.hasUnbufferedRawData = unbufferedRawData
    }

    deinit {
        if id >= 0 { H5Fclose(id) }
    }

    /// Opens an existing file read-only, or read-write when `writable`.
    package static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
        HDF5Library.prepare()
        let flags = writable ? chdf5_acc_rdwr() : chdf5_acc_rdonly()
        let id = try HDF5Library.checked(H5Fopen(path, flags, chdf5_p_default()), file: path, path: "",
                                         "open the file as HDF5")
        return HDF5File(id: id, name: path, writable: writable)
    }

    /// Creates a new file; `overwrite` truncates an existing one, otherwise an existing file is an error.
    /// With `unbufferedRawData`, HDF5 keeps no sieve buffer: raw data it is given is written to the
    /// file at once, so that others may write datasets' bytes beside it
    /// (``HDF5Dataset/reserveContiguousStorage()``).
    package static func create(_ path: String, overwrite: Bool = false, unbufferedRawData: Bool = false) throws -> HDF5File {
        HDF5Library.prepare()
        let flags = overwrite ? chdf5_acc_trunc() : chdf5_acc_excl()
        let fapl = try HDF5Handle.make(H5Pcreate(chdf5_p_file_access()), .propertyList, file: path, path: "",
                                       "create a file-access property list")
        if unbufferedRawData {
            try HDF5Library.check(H5Pset_sieve_buf_size(fapl.id, 0), file: path, path: "", "turn the sieve buffer off")
        }
        let id = try HDF5Library.checked(H5Fcreate(path, flags, chdf5_p_default(), fapl.id),
                                         file: path, path: "", "create the file")
        return HDF5File(id: id, name: path, writable: true, unbufferedRawData: unbufferedRawData)
    }

    /// Opens a file image held in memory (a `.keras` zip member) read-only. HDF5 copies the bytes.
    package static func open(image: [UInt8], name: String) throws -> HDF5File {
        HDF5Library.prepare()
        let fapl = try coreAccessList(name: name)
        try image.withUnsafeBytes { raw in
            try HDF5Library.check(H5Pset_file_image(fapl.id, UnsafeMutableRawPointer(mutating: raw.baseAddress), raw.count),
                                  file: name, path: "", "hand the file image to HDF5")
        }
        let id = try HDF5Library.checked(H5Fopen(name, chdf5_acc_rdonly(), fapl.id), file: name, path: "",
                                         "open the file image as HDF5")
        return HDF5File(id: id, name: name, writable: false)
    }

    /// Creates an empty file that lives only in memory; read its bytes with ``image()``.
    package static func createInMemory(name: String) throws -> HDF5File {
        HDF5Library.prepare()
        let fapl = try coreAccessList(name: name)
        let id = try HDF5Library.checked(H5Fcreate(name, chdf5_acc_trunc(), chdf5_p_default(), fapl.id),
                                         file: name, path: "", "create an in-memory file")
        return HDF5File(id: id, name: name, writable: true)
    }

    /// A file-access list for the core (memory) driver without a backing store.
    private static func coreAccessList(name: String) throws -> HDF5Handle {
        let fapl = try HDF5Handle.make(H5Pcreate(chdf5_p_file_access()), .propertyList, file: name, path: "",
                                       "create a file-access property list")
        try HDF5Library.check(H5Pset_fapl_core(fapl.id, 1 << 16, false), file: name, path: "", "select the core driver")
        return fapl
    }

    /// The whole file's bytes (flushed first), e.g. to store an in-memory file in a zip.
    package func image() throws -> [UInt8] {
        try HDF5Library.check(H5Fflush(id, H5F_SCOPE_GLOBAL), file: name, path: "", "flush the file")
        let size = H5Fget_file_image(id, nil, 0)
        guard size >= 0 else {
            throw HDF5Error(file: name, path: "", operation: "get the file image size", message: HDF5Library.takeErrorMessage())
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let copied = bytes.withUnsafeMutableBytes { H5Fget_file_image(id, $0.baseAddress, size) }
        guard copied == size else {
            throw HDF5Error(file: name, path: "", operation: "copy the file image", message: HDF5Library.takeErrorMessage())
        }
        return bytes
    }

    /// The file's size in bytes as HDF5 sees it.
    package func size() throws -> Int {
        var size: hsize_t = 0
        try HDF5Library.check(H5Fget_filesize(id, &size), file: name, path: "", "read the file size")
        return Int(size)
    }

    /// The root group `/`.
    package func root() throws -> HDF5Group { try HDF5Group.open(in: self, parentId: id, parentPath: "", name: "/") }

    /// Flushes and closes the file, reporting a failure; later calls do nothing.
    package func close() throws {
        guard id >= 0 else { return }
        if isWritable {
            let flushed = H5Fflush(id, H5F_SCOPE_GLOBAL)
            if flushed < 0 {
                let message = HDF5Library.takeErrorMessage()
                H5Fclose(id)
                id = -1
                throw HDF5Error(file: name, path: "", operation: "flush the file", message: message)
            }
        }
        let status = H5Fclose(id)
        id = -1
        try HDF5Library.check(status, file: name, path: "", "close the file")
    }
}
