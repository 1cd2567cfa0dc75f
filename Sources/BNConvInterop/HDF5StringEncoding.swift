import CHDF5
import BNConvCore

/// How an HDF5 string attribute stores its text; Keras files hold every one of these flavours
/// (docs/formats.md, Strings).
package struct HDF5StringEncoding: Equatable, Sendable {
    /// Variable-length or fixed-length storage.
    enum Storage: Equatable, Sendable {
        /// Variable-length (h5py 3 writes lists of str/bytes this way).
        case variable
        /// Fixed `size` bytes per item, padded.
        case fixed(size: Int)
    }

    /// Variable- or fixed-length.
    var storage: Storage
    /// UTF-8 (`true`) or ASCII cset.
    var utf8: Bool
    /// For fixed-length strings: NUL-padded (`true`, numpy `S` arrays) or NUL-terminated.
    var nullPadded: Bool

    /// A vlen ASCII string (Keras lists and `model_config`).
    package static let variableASCII = HDF5StringEncoding(storage: .variable, utf8: false, nullPadded: false)
    /// A vlen UTF-8 string (root `keras_version`/`backend`, Keras 3 `name` attributes).
    package static let variableUTF8 = HDF5StringEncoding(storage: .variable, utf8: true, nullPadded: false)
    /// A fixed-length NUL-padded ASCII string of `size` bytes (numpy `S<size>` chunks).
    package static func fixedASCII(size: Int) -> HDF5StringEncoding {
        HDF5StringEncoding(storage: .fixed(size: size), utf8: false, nullPadded: true)
    }

    /// Reads the encoding of a string datatype.
    init(datatype type: hid_t) {
        utf8 = H5Tget_cset(type) == H5T_CSET_UTF8
        if H5Tis_variable_str(type) > 0 {
            storage = .variable
            nullPadded = false
        } else {
            storage = .fixed(size: H5Tget_size(type))
            nullPadded = H5Tget_strpad(type) == H5T_STR_NULLPAD
        }
    }

    /// Creates an encoding.
    init(storage: Storage, utf8: Bool, nullPadded: Bool) {
        self.storage = storage
        self.utf8 = utf8
        self.nullPadded = nullPadded
    }

    /// A new string datatype with this encoding (used both as file and memory type).
    func makeDatatype(file: String, path: String) throws -> HDF5Handle {
        let type = try HDF5Handle.make(H5Tcopy(chdf5_t_c_s1()), .datatype, file: file, path: path, "copy the C string type")
        switch storage {
        case .variable:
            try HDF5Library.check(H5Tset_size(type.id, chdf5_t_variable()), file: file, path: path, "make a vlen string type")
        case .fixed(let size):
            try HDF5Library.check(H5Tset_size(type.id, max(size, 1)), file: file, path: path, "size a fixed string type")
            try HDF5Library.check(H5Tset_strpad(type.id, nullPadded ? H5T_STR_NULLPAD : H5T_STR_NULLTERM),
                                  file: file, path: path, "set a string padding")
        }
        try HDF5Library.check(H5Tset_cset(type.id, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), file: file, path: path,
                              "set a string character set")
        return type
    }
}
