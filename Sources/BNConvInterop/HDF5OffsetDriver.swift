import CHDF5

/// The virtual file driver that places an HDF5 file at a byte offset inside another file
/// (`offset_driver.h`), registered with libhdf5 once per process on first use.
enum HDF5OffsetDriver {
    /// The driver's id, negative when libhdf5 refused to register it, with libhdf5's reason.
    static let registration: (id: hid_t, failure: String) = {
        HDF5Library.prepare()
        let id = chdf5_offset_driver_register()
        return (id, id < 0 ? HDF5Library.takeErrorMessage() : "")
    }()
}
