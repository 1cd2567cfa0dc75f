import CHDF5
import BNConvCore

/// Maps HDF5 datatypes to ``DType`` and builds the file and memory types for each ``DType``.
///
/// Reads use a memory type equal to the NATIVE equivalent of the file type (never the file type
/// itself), except float16 (h5py's half layout) and bfloat16 (2-byte opaque), which move as raw bits.
enum HDF5ElementType {
    /// The ``DType`` of a numeric file type, or `nil` when bnconv does not read it. A 2-byte opaque
    /// counts as bfloat16 only when `opaqueIsBFloat16` (Keras 3 marks it with a `dtype` attribute).
    static func dtype(of type: hid_t, opaqueIsBFloat16: Bool) -> DType? {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            switch size {
            case 2:
                // IEEE half has a 5-bit exponent; a 2-byte float with an 8-bit exponent is bfloat16.
                var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
                H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize)
                return esize == 8 ? .bfloat16 : .float16
            case 4: return .float32
            case 8: return .float64
            default: return nil
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (size, signed) {
            case (1, true): return .int8
            case (1, false): return .uint8
            case (2, true): return .int16
            case (4, true): return .int32
            case (8, true): return .int64
            default: return nil
            }
        case H5T_OPAQUE:
            return size == 2 && opaqueIsBFloat16 ? .bfloat16 : nil
        default:
            return nil
        }
    }

    /// The memory type to read or write `dtype` through; `fileType` is used for bfloat16 raw bits.
    static func memoryType(for dtype: DType, fileType: hid_t?, file: String, path: String) throws -> HDF5Handle {
        switch dtype {
        case .float16:
            return try HDF5Handle.make(chdf5_make_f16le(), .datatype, file: file, path: path, "build the float16 type")
        case .bfloat16:
            if let fileType {
                return try HDF5Handle.make(H5Tcopy(fileType), .datatype, file: file, path: path, "copy the bfloat16 type")
            }
            return try makeFileType(for: .bfloat16, file: file, path: path)
        default:
            return try HDF5Handle.make(H5Tcopy(nativeType(for: dtype)), .datatype, file: file, path: path,
                                       "copy the native \(dtype.rawValue) type")
        }
    }

    /// The little-endian file type Keras/h5py writes for `dtype` (bfloat16: a 2-byte opaque).
    static func makeFileType(for dtype: DType, file: String, path: String) throws -> HDF5Handle {
        let id: hid_t
        switch dtype {
        case .float16: id = chdf5_make_f16le()
        case .bfloat16: id = H5Tcreate(H5T_OPAQUE, 2)
        case .float32: id = H5Tcopy(chdf5_t_ieee_f32le())
        case .float64: id = H5Tcopy(chdf5_t_ieee_f64le())
        case .int8: id = H5Tcopy(chdf5_t_std_i8le())
        case .uint8: id = H5Tcopy(chdf5_t_std_u8le())
        case .int16: id = H5Tcopy(chdf5_t_std_i16le())
        case .int32: id = H5Tcopy(chdf5_t_std_i32le())
        case .int64: id = H5Tcopy(chdf5_t_std_i64le())
        case .bool: id = H5Tcopy(chdf5_t_std_u8le())
        }
        return try HDF5Handle.make(id, .datatype, file: file, path: path, "build the \(dtype.rawValue) file type")
    }

    /// The predefined native type for a dtype that HDF5 converts itself.
    private static func nativeType(for dtype: DType) -> hid_t {
        switch dtype {
        case .float32: return chdf5_t_native_float()
        case .float64: return chdf5_t_native_double()
        case .int8: return chdf5_t_native_int8()
        case .uint8, .bool: return chdf5_t_native_uint8()
        case .int16: return chdf5_t_native_int16()
        case .int32: return chdf5_t_native_int32()
        case .int64: return chdf5_t_native_int64()
        case .float16, .bfloat16: return chdf5_t_native_uint8() // not used: handled by the callers
        }
    }
}
