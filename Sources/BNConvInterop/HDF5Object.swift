import CHDF5
import BNConvCore

/// What groups and datasets share: an identifier in an open file, an object path for errors, and
/// attributes.
package protocol HDF5Object: AnyObject {
    /// The file it belongs to (kept alive by the object).
    var file: HDF5File { get }
    /// Its absolute object path (`/model_weights/bn`).
    var path: String { get }
    /// Its HDF5 identifier.
    var id: hid_t { get }
}

/// Collects the names an HDF5 iteration callback reports.
private final class NameCollector {
    var names: [String] = []
}

extension HDF5Object {
    /// The names of its attributes, in name order (Keras files do not track creation order).
    package func attributeNames() throws -> [String] {
        let collector = NameCollector()
        let status = chdf5_iterate_attributes(id, { _, name, op in
            let collector = Unmanaged<NameCollector>.fromOpaque(op!).takeUnretainedValue()
            collector.names.append(String(cString: name!))
            return 0
        }, Unmanaged.passUnretained(collector).toOpaque())
        try HDF5Library.check(status, file: file.name, path: path, "list attributes")
        return collector.names
    }

    /// Whether the attribute `name` exists.
    package func hasAttribute(_ name: String) -> Bool {
        H5Aexists(id, name) > 0
    }

    /// Opens the attribute `name`.
    package func attribute(_ name: String) throws -> HDF5Attribute {
        try HDF5Attribute.open(on: self, name: name)
    }

    /// Reads the string attribute `name` (scalar or 1-item), or `nil` when it is absent.
    package func stringAttribute(_ name: String) throws -> String? {
        guard hasAttribute(name) else { return nil }
        let values = try attribute(name).readStrings()
        guard values.count == 1 else {
            throw HDF5Error(file: file.name, path: path, operation: "read attribute '\(name)' as one string",
                            message: "it holds \(values.count) strings")
        }
        return values[0]
    }

    /// Writes (replacing) a string attribute: a scalar when `scalar`, else a 1-D array.
    package func writeStrings(_ name: String, _ values: [String], encoding: HDF5StringEncoding, scalar: Bool = false) throws {
        try deleteAttributeIfPresent(name)
        try HDF5Attribute.writeStrings(on: self, name: name, values: values, encoding: encoding, scalar: scalar)
    }

    /// Writes (replacing) the empty float64 `(0,)` array h5py stores for an empty Python list.
    package func writeEmptyFloat64(_ name: String) throws {
        try deleteAttributeIfPresent(name)
        try HDF5Attribute.writeEmptyFloat64(on: self, name: name)
    }

    /// Deletes the attribute `name` if it exists.
    func deleteAttributeIfPresent(_ name: String) throws {
        if hasAttribute(name) {
            try HDF5Library.check(H5Adelete(id, name), file: file.name, path: path, "delete attribute '\(name)'")
        }
    }

    /// Copies the attribute `name` of `source` onto this object, keeping its type and shape.
    func copyAttribute(_ name: String, from source: HDF5Object) throws {
        let value = try source.attribute(name).readValue()
        try deleteAttributeIfPresent(name)
        try HDF5Attribute.write(value, on: self, name: name)
    }
}

/// Lists the links of a group by name.
func hdf5LinkNames(of id: hid_t, file: String, path: String) throws -> [String] {
    let collector = NameCollector()
    let status = chdf5_iterate_links(id, { _, name, op in
        let collector = Unmanaged<NameCollector>.fromOpaque(op!).takeUnretainedValue()
        collector.names.append(String(cString: name!))
        return 0
    }, Unmanaged.passUnretained(collector).toOpaque())
    try HDF5Library.check(status, file: file, path: path, "list the group's members")
    return collector.names
}
