import BNConvCore
import BNConvModel
import BNConvInterop

/// Keras's string-list attributes (`layer_names`, `weight_names`), with their chunking rule
/// (docs/formats.md, Chunked attributes): a list whose numpy `S` array exceeds HDF5_OBJECT_HEADER_LIMIT bytes is split
/// into `name0`, `name1`, ... fixed-length NULLPAD chunks, as `np.array_split` splits it.
enum KerasAttributeList {
    /// `HDF5_OBJECT_HEADER_LIMIT` in tf-keras `hdf5_format.py` and Keras 3 `legacy_h5_format.py`.
    static let headerLimit = 64512

    /// Reads `name`, or the concatenation of `name0`, `name1`, ... when `name` is absent;
    /// `nil` when neither exists.
    static func read(_ name: String, of object: HDF5Object) throws -> [String]? {
        if object.hasAttribute(name) { return try object.attribute(name).readStrings() }
        var values: [String] = []
        var index = 0
        while object.hasAttribute("\(name)\(index)") {
            values += try object.attribute("\(name)\(index)").readStrings()
            index += 1
        }
        return index == 0 ? nil : values
    }

    /// How many chunks Keras writes `values` in (1 = one vlen attribute), or `nil` when one item
    /// alone exceeds the limit (Keras raises then).
    static func chunkCount(_ values: [String]) -> Int? {
        let width = max(values.map { $0.utf8.count }.max() ?? 0, 1)
        if width > headerLimit { return nil }
        var chunks = 1
        while ((values.count + chunks - 1) / chunks) * width > headerLimit { chunks += 1 }
        return chunks
    }

    /// Writes `values` as Keras does: the empty float64 array for an empty list, one vlen ASCII
    /// array when small enough, else `name0..` fixed-length NULLPAD chunks (first chunks one longer).
    static func write(_ name: String, _ values: [String], on object: HDF5Object) throws {
        if values.isEmpty {
            try object.writeEmptyFloat64(name)
            return
        }
        guard let chunks = chunkCount(values) else {
            throw HDF5Error(file: object.file.name, path: object.path, operation: "write attribute '\(name)'",
                            message: "an item is longer than \(headerLimit) bytes, which Keras cannot store")
        }
        if chunks == 1 {
            try object.writeStrings(name, values, encoding: .variableASCII)
            return
        }
        let width = max(values.map { $0.utf8.count }.max() ?? 0, 1)
        let base = values.count / chunks, extra = values.count % chunks
        var start = 0
        for chunk in 0..<chunks {
            let size = base + (chunk < extra ? 1 : 0)
            try object.writeStrings("\(name)\(chunk)", Array(values[start..<(start + size)]), encoding: .fixedASCII(size: width))
            start += size
        }
    }
}
