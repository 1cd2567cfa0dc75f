import CHDF5
import Foundation
import BNConvCore

/// An open attribute of a group or dataset, owning its `hid_t`.
package final class HDF5Attribute {
    /// The attribute's name.
    let name: String
    /// The object path of its owner, for errors.
    let ownerPath: String
    /// The file it belongs to.
    let file: HDF5File
    /// The attribute identifier.
    let id: hid_t

    private init(id: hid_t, name: String, ownerPath: String, file: HDF5File) {
        self.id = id
        self.name = name
        self.ownerPath = ownerPath
        self.file = file
    }

    deinit { H5Aclose(id) }

    /// Opens the attribute `name` of `owner`.
    static func open(on owner: HDF5Object, name: String) throws -> HDF5Attribute {
        let id = try HDF5Library.checked(H5Aopen(owner.id, name, chdf5_p_default()), file: owner.file.name,
                                         path: owner.path, "open attribute '\(name)'")
        return HDF5Attribute(id: id, name: name, ownerPath: owner.path, file: owner.file)
    }

    /// Its dimensions; `[]` for a scalar.
    func shape() throws -> [Int] {
        let space = try HDF5Handle.make(H5Aget_space(id), .dataspace, file: file.name, path: ownerPath,
                                        "read the dataspace of attribute '\(name)'")
        return try HDF5Handle.shape(ofSpace: space.id, file: file.name, path: ownerPath)
    }

    /// The string encoding, or `nil` when the attribute is not a string.
    func stringEncoding() throws -> HDF5StringEncoding? {
        let type = try HDF5Handle.make(H5Aget_type(id), .datatype, file: file.name, path: ownerPath,
                                       "read the type of attribute '\(name)'")
        return H5Tget_class(type.id) == H5T_STRING ? HDF5StringEncoding(datatype: type.id) : nil
    }

    /// Reads every string, whatever the flavour: vlen or fixed (NULLPAD/NULLTERM), ASCII or UTF-8,
    /// scalar or 1-D. An empty numeric array (h5py's encoding of `[]`) reads as no strings.
    package func readStrings() throws -> [String] {
        switch try readValue() {
        case .strings(let values, _, _):
            return values
        case .numbers(_, let shape, _) where shape.reduce(1, *) == 0 && !shape.isEmpty:
            return []
        case .numbers(let dtype, let shape, _):
            throw HDF5Error(file: file.name, path: ownerPath, operation: "read attribute '\(name)' as strings",
                            message: "it holds \(dtype.rawValue) numbers of shape \(shape)")
        }
    }

    /// Reads the attribute generically (strings with their encoding, or numbers).
    package func readValue() throws -> HDF5AttributeValue {
        let type = try HDF5Handle.make(H5Aget_type(id), .datatype, file: file.name, path: ownerPath,
                                       "read the type of attribute '\(name)'")
        let space = try HDF5Handle.make(H5Aget_space(id), .dataspace, file: file.name, path: ownerPath,
                                        "read the dataspace of attribute '\(name)'")
        let shape = try HDF5Handle.shape(ofSpace: space.id, file: file.name, path: ownerPath)
        let count = shape.reduce(1, *)
        if H5Tget_class(type.id) == H5T_STRING {
            let encoding = HDF5StringEncoding(datatype: type.id)
            let memory = try encoding.makeDatatype(file: file.name, path: ownerPath)
            return .strings(try readStrings(count: count, encoding: encoding, memory: memory, space: space),
                            encoding, shape: shape)
        }
        guard let dtype = HDF5ElementType.dtype(of: type.id, opaqueIsBFloat16: false) else {
            throw HDF5Error(file: file.name, path: ownerPath, operation: "read attribute '\(name)'",
                            message: "its datatype is neither a string nor a supported number")
        }
        var bytes = [UInt8](repeating: 0, count: count * dtype.byteCount)
        if count > 0 {
            let memory = try HDF5ElementType.memoryType(for: dtype, fileType: type.id, file: file.name, path: ownerPath)
            let status = bytes.withUnsafeMutableBytes { H5Aread(id, memory.id, $0.baseAddress) }
            try HDF5Library.check(status, file: file.name, path: ownerPath, "read attribute '\(name)'")
        }
        return .numbers(dtype, shape: shape, bytes: bytes)
    }

    private func readStrings(count: Int, encoding: HDF5StringEncoding, memory: HDF5Handle, space: HDF5Handle) throws -> [String] {
        guard count > 0 else { return [] }
        switch encoding.storage {
        case .variable:
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBytes { H5Aread(id, memory.id, $0.baseAddress) }
            try HDF5Library.check(status, file: file.name, path: ownerPath, "read attribute '\(name)'")
            let values = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = pointers.withUnsafeMutableBytes { H5Dvlen_reclaim(memory.id, space.id, chdf5_p_default(), $0.baseAddress) }
            return values
        case .fixed(let size):
            var buffer = [UInt8](repeating: 0, count: count * size)
            let status = buffer.withUnsafeMutableBytes { H5Aread(id, memory.id, $0.baseAddress) }
            try HDF5Library.check(status, file: file.name, path: ownerPath, "read attribute '\(name)'")
            return (0..<count).map { i in
                let item = buffer[(i * size)..<((i + 1) * size)]
                return String(decoding: item.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
    }

    /// Creates a string attribute on `owner` (which must not already have one named `name`).
    static func writeStrings(on owner: HDF5Object, name: String, values: [String], encoding: HDF5StringEncoding,
                             scalar: Bool) throws {
        let file = owner.file.name, path = owner.path
        precondition(!scalar || values.count == 1, "a scalar string attribute holds one value")
        var encoding = encoding
        if case .fixed(let size) = encoding.storage {
            let longest = values.map { $0.utf8.count }.max() ?? 1
            encoding.storage = .fixed(size: max(size, longest, 1))
        }
        let type = try encoding.makeDatatype(file: file, path: path)
        let space = try HDF5Handle.dataspace(shape: scalar ? nil : [values.count], file: file, path: path)
        let attr = try HDF5Library.checked(H5Acreate2(owner.id, name, type.id, space.id, chdf5_p_default(), chdf5_p_default()),
                                           file: file, path: path, "create attribute '\(name)'")
        defer { H5Aclose(attr) }
        let status: herr_t
        switch encoding.storage {
        case .variable:
            var cStrings = values.map { strdup($0) }
            defer { cStrings.forEach { free($0) } }
            status = cStrings.withUnsafeMutableBytes { H5Awrite(attr, type.id, $0.baseAddress) }
        case .fixed(let size):
            var buffer = [UInt8](repeating: 0, count: max(values.count * size, 1))
            for (i, value) in values.enumerated() {
                for (j, byte) in value.utf8.enumerated() { buffer[i * size + j] = byte }
            }
            status = buffer.withUnsafeMutableBytes { H5Awrite(attr, type.id, $0.baseAddress) }
        }
        try HDF5Library.check(status, file: file, path: path, "write attribute '\(name)'")
    }

    /// Creates the float64 `(0,)` attribute h5py writes for an empty list.
    static func writeEmptyFloat64(on owner: HDF5Object, name: String) throws {
        try write(.numbers(.float64, shape: [0], bytes: []), on: owner, name: name)
    }

    /// Creates an attribute holding `value` on `owner`.
    package static func write(_ value: HDF5AttributeValue, on owner: HDF5Object, name: String) throws {
        switch value {
        case let .strings(values, encoding, shape):
            try writeStrings(on: owner, name: name, values: values, encoding: encoding, scalar: shape.isEmpty)
        case let .numbers(dtype, shape, bytes):
            let file = owner.file.name, path = owner.path
            let type = try HDF5ElementType.makeFileType(for: dtype, file: file, path: path)
            let memory = try HDF5ElementType.memoryType(for: dtype, fileType: type.id, file: file, path: path)
            let space = try HDF5Handle.dataspace(shape: shape.isEmpty ? nil : shape, file: file, path: path)
            let attr = try HDF5Library.checked(H5Acreate2(owner.id, name, type.id, space.id, chdf5_p_default(), chdf5_p_default()),
                                               file: file, path: path, "create attribute '\(name)'")
            defer { H5Aclose(attr) }
            if !bytes.isEmpty {
                let status = bytes.withUnsafeBytes { H5Awrite(attr, memory.id, $0.baseAddress) }
                try HDF5Library.check(status, file: file, path: path, "write attribute '\(name)'")
            }
        }
    }
}
