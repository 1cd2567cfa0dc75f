import CHDF5
import BNConvCore

/// A dataset's creation properties that matter when rewriting it: storage layout, chunk shape and
/// filter pipeline (compression, shuffle, checksums). Read from a dataset and reused for its
/// rewritten version.
package struct HDF5DatasetCreation: Equatable, Sendable {
    /// How the data is laid out in the file.
    package enum Layout: Equatable, Sendable {
        /// One block (h5py's and Keras's default).
        case contiguous
        /// Stored in the object header (tiny datasets).
        case compact
        /// Chunked with these chunk dimensions.
        case chunked([Int])
    }

    /// One filter of the pipeline, as HDF5 describes it.
    package struct Filter: Equatable, Sendable {
        /// The filter id (`H5Z_FILTER_DEFLATE` = 1, shuffle = 2, fletcher32 = 3, ...).
        var id: Int32
        /// Its flags (`H5Z_FLAG_OPTIONAL`, ...).
        var flags: UInt32
        /// Its client values (deflate: the level).
        var values: [UInt32]
    }

    /// The storage layout.
    package var layout: Layout
    /// The filter pipeline, in order.
    package var filters: [Filter]

    /// Contiguous, unfiltered: what Keras writes.
    package static let contiguous = HDF5DatasetCreation(layout: .contiguous, filters: [])

    /// Creates creation properties.
    init(layout: Layout, filters: [Filter] = []) {
        self.layout = layout
        self.filters = filters
    }

    /// Reads the properties of a dataset creation property list.
    init(propertyList plist: hid_t, file: String, path: String) throws {
        switch H5Pget_layout(plist) {
        case H5D_CHUNKED:
            var dims = [hsize_t](repeating: 0, count: 32)
            let rank = H5Pget_chunk(plist, 32, &dims)
            try HDF5Library.check(rank, file: file, path: path, "read the chunk shape")
            layout = .chunked(dims.prefix(Int(rank)).map { Int($0) })
        case H5D_COMPACT:
            layout = .compact
        case H5D_LAYOUT_ERROR:
            throw HDF5Error(file: file, path: path, operation: "read the storage layout", message: HDF5Library.takeErrorMessage())
        default:
            layout = .contiguous
        }
        let count = H5Pget_nfilters(plist)
        try HDF5Library.check(count, file: file, path: path, "count the filters")
        filters = []
        for index in 0..<UInt32(count) {
            var flags: UInt32 = 0
            var valueCount = 16
            var values = [UInt32](repeating: 0, count: valueCount)
            var config: UInt32 = 0
            var nameBuffer = [CChar](repeating: 0, count: 64)
            let id = H5Pget_filter2(plist, index, &flags, &valueCount, &values, nameBuffer.count, &nameBuffer, &config)
            try HDF5Library.check(id, file: file, path: path, "read filter \(index)")
            filters.append(Filter(id: id, flags: flags, values: Array(values.prefix(min(valueCount, 16)))))
        }
    }

    /// A dataset creation property list for a dataset of `shape`, with chunk dimensions clamped to
    /// the shape (a smaller rewritten dataset cannot keep bigger chunks; docs/formats.md, libhdf5). A chunked
    /// layout of another rank, or of a scalar, falls back to one chunk of the whole shape / contiguous.
    func makePropertyList(shape: [Int], file: String, path: String) throws -> HDF5Handle {
        let plist = try HDF5Handle.make(H5Pcreate(chdf5_p_dataset_create()), .propertyList, file: file, path: path,
                                        "create a dataset creation property list")
        var chunked = false
        switch layout {
        case .contiguous:
            break
        case .compact:
            if shape.reduce(1, *) * 8 < 60_000 {
                try HDF5Library.check(H5Pset_layout(plist.id, H5D_COMPACT), file: file, path: path, "set a compact layout")
            }
        case .chunked(let chunk):
            if !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) {
                let dims = chunk.count == shape.count
                    ? zip(chunk, shape).map { min(max($0, 1), $1) }
                    : shape
                var h = dims.map { hsize_t($0) }
                try HDF5Library.check(H5Pset_chunk(plist.id, Int32(h.count), &h), file: file, path: path, "set the chunk shape \(dims)")
                chunked = true
            }
        }
        if chunked {
            for filter in filters {
                var values = filter.values
                try HDF5Library.check(H5Pset_filter(plist.id, filter.id, filter.flags, values.count, &values),
                                      file: file, path: path, "set filter \(filter.id)")
            }
        }
        return plist
    }
}
