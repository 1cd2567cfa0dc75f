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
    /// The file on disk whose bytes these are (the path as given; for a file created inside
    /// another one, that file), and where in it the HDF5 file starts: address `a` of the HDF5 file
    /// is byte `baseOffset + a` of `containerPath` (``create(_:atOffset:name:unbufferedRawData:)``).
    package let containerPath: String
    /// See ``containerPath``; 0 for a file of its own.
    package let baseOffset: Int
    /// The bytes lent by ``open(lending:owner:name:)`` and what keeps them alive, released after the file is closed.
    private let lent: LentImage?

    private init(id: hid_t, name: String, writable: Bool, unbufferedRawData: Bool = false, containerPath: String? = nil,
                 baseOffset: Int = 0, lent: LentImage? = nil) {
        self.id = id
        self.name = name
        self.isWritable = writable
        self.hasUnbufferedRawData = unbufferedRawData
        self.containerPath = containerPath ?? name
        self.baseOffset = baseOffset
        self.lent = lent
    }

    deinit {
        // Closed first: HDF5 hands the lent image back (a no-op callback) before `lent` goes.
        if id >= 0 { H5Fclose(id) }
    }

    /// The callbacks' record of lent bytes (C memory HDF5 points to) and the owner of the bytes.
    private final class LentImage {
        /// What ``chdf5_lend_file_image`` is given: the bytes and their count.
        let record: UnsafeMutablePointer<chdf5_lent_image>
        /// Keeps the bytes alive.
        let owner: AnyObject

        init(_ bytes: UnsafeRawBufferPointer, owner: AnyObject) {
            record = .allocate(capacity: 1)
            record.initialize(to: chdf5_lent_image(base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), size: bytes.count))
            self.owner = owner
        }

        deinit { record.deallocate() }
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

    /// Opens, read-only, the HDF5 file whose bytes are `bytes`, without copying them: libhdf5's core
    /// driver reads them where they lie (a read-only mapping of a STORED `.keras` member), through
    /// file-image callbacks that lend the bytes instead of allocating and copying (`lent_image.h`).
    /// `owner` keeps the bytes alive; the file holds it until it is closed and released.
    package static func open(lending bytes: UnsafeRawBufferPointer, owner: AnyObject, name: String) throws -> HDF5File {
        HDF5Library.prepare()
        guard bytes.baseAddress != nil, bytes.count > 0 else {
            throw HDF5Error(file: name, path: "", operation: "open the file image as HDF5", message: "the image is empty")
        }
        let lent = LentImage(bytes, owner: owner)
        // The list is closed before `lent` can go: HDF5 calls back into its record when it closes.
        let id: hid_t = try withExtendedLifetime(lent) {
            let fapl = try coreAccessList(name: name)
            try HDF5Library.check(chdf5_lend_file_image(fapl.id, lent.record), file: name, path: "", "lend the file image to HDF5")
            return try HDF5Library.checked(H5Fopen(name, chdf5_acc_rdonly(), fapl.id), file: name, path: "",
                                           "open the file image as HDF5")
        }
        return HDF5File(id: id, name: name, writable: false, lent: lent)
    }

    /// Creates a new HDF5 file inside the existing file `path`, starting at byte `offset` of it
    /// (a STORED `.keras` member written in place): HDF5 writes through a driver that adds the
    /// offset to every address (`offset_driver.h`) and lays the file out byte for byte as in a file
    /// of its own. What lies before `offset` is left as it is; the caller cuts `path` at `offset`
    /// first. HDF5 makes `path` end where the HDF5 file ends when it closes it. `name` stands for
    /// the file in errors. `unbufferedRawData` as in ``create(_:overwrite:unbufferedRawData:)``;
    /// the file's raw bytes then lie at ``baseOffset`` plus their HDF5 address in ``containerPath``.
    package static func create(_ path: String, atOffset offset: Int, name: String, unbufferedRawData: Bool = false) throws -> HDF5File {
        HDF5Library.prepare()
        let (driver, failure) = HDF5OffsetDriver.registration
        guard driver >= 0 else {
            throw HDF5Error(file: name, path: "", operation: "register the offset driver", message: failure)
        }
        let fapl = try HDF5Handle.make(H5Pcreate(chdf5_p_file_access()), .propertyList, file: name, path: "",
                                       "create a file-access property list")
        try HDF5Library.check(chdf5_set_fapl_offset(fapl.id, driver, Int64(offset)), file: name, path: "", "select the offset driver")
        if unbufferedRawData {
            try HDF5Library.check(H5Pset_sieve_buf_size(fapl.id, 0), file: name, path: "", "turn the sieve buffer off")
        }
        let id = try HDF5Library.checked(H5Fcreate(path, chdf5_acc_trunc(), chdf5_p_default(), fapl.id),
                                         file: name, path: "", "create the file")
        return HDF5File(id: id, name: name, writable: true, unbufferedRawData: unbufferedRawData, containerPath: path,
                        baseOffset: offset)
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
