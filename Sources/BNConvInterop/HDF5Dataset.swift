import CHDF5
import BNConvCore

/// An open HDF5 dataset, owning its `hid_t`.
package final class HDF5Dataset: HDF5Object {
    package let file: HDF5File
    package let path: String
    package let id: hid_t

    private init(id: hid_t, path: String, file: HDF5File) {
        self.id = id
        self.path = path
        self.file = file
    }

    deinit { H5Dclose(id) }

    /// Opens `name` under `group`.
    static func open(in group: HDF5Group, name: String) throws -> HDF5Dataset {
        let path = HDF5Library.join(group.path, name)
        try HDF5Group.requireLinksInside(group.id, name, file: group.file, parentPath: group.path, operation: "open the dataset")
        let id = try HDF5Library.checked(H5Dopen2(group.id, name, chdf5_p_default()), file: group.file.name, path: path,
                                         "open the dataset")
        let dataset = HDF5Dataset(id: id, path: path, file: group.file)
        if chdf5_dataset_reads_elsewhere(id) != 0 {
            _ = HDF5Library.takeErrorMessage()
            throw HDF5Error(file: group.file.name, path: path, operation: "open the dataset",
                            message: "its data is stored outside the model file (HDF5 external storage or a virtual dataset); bnconv reads only what is inside the model file (h5repack -l CONTI copies the data into a new file)")
        }
        return dataset
    }

    /// Its dimensions; `[]` for a scalar.
    func shape() throws -> [Int] {
        let space = try HDF5Handle.make(H5Dget_space(id), .dataspace, file: file.name, path: path, "read the dataspace")
        return try HDF5Handle.shape(ofSpace: space.id, file: file.name, path: path)
    }

    /// The element type as a ``DType`` (bfloat16: a 2-byte opaque marked by a `dtype` attribute).
    func dtype() throws -> DType {
        let type = try HDF5Handle.make(H5Dget_type(id), .datatype, file: file.name, path: path, "read the datatype")
        return try dtype(of: type)
    }

    private func dtype(of type: HDF5Handle) throws -> DType {
        let marked = (try? stringAttribute("dtype")) == "bfloat16"
        guard let dtype = HDF5ElementType.dtype(of: type.id, opaqueIsBFloat16: marked) else {
            throw HDF5Error(file: file.name, path: path, operation: "read the dataset",
                            message: "unsupported element type (class \(H5Tget_class(type.id).rawValue), \(H5Tget_size(type.id)) bytes)")
        }
        return dtype
    }

    /// The creation properties (layout, chunks, filters).
    package func creation() throws -> HDF5DatasetCreation {
        let plist = try HDF5Handle.make(H5Dget_create_plist(id), .propertyList, file: file.name, path: path,
                                        "read the creation properties")
        return try HDF5DatasetCreation(propertyList: plist.id, file: file.name, path: path)
    }

    /// The dataset's dtype, shape and byte count, without reading it. A declared size larger than
    /// the file (unfiltered data) or than `limits.totalAllowance(fileBytes:)` (filtered data) is refused.
    /// `creation`, when given, is this dataset's ``creation()`` read already; a size over `limits`
    /// is refused too.
    package func extent(creation known: HDF5DatasetCreation? = nil, limits: ReadLimits = ReadLimits()) throws -> (dtype: DType, shape: [Int], byteCount: Int) {
        let type = try HDF5Handle.make(H5Dget_type(id), .datatype, file: file.name, path: path, "read the datatype")
        return try extent(type: type, creation: known, limits: limits)
    }

    private func extent(type: HDF5Handle, creation known: HDF5DatasetCreation?, limits: ReadLimits) throws -> (dtype: DType, shape: [Int], byteCount: Int) {
        let dtype = try dtype(of: type)
        let shape = try shape()
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        let (byteCount, overflow2) = count.multipliedReportingOverflow(by: dtype.byteCount)
        let filtered = try !(known ?? creation()).filters.isEmpty
        let fileSize = try file.size()
        // Unfiltered data cannot be larger than the file; filtered (compressed, or never written
        // and read as the fill value) data at most what `limits` allow for a file of this size.
        let limit = filtered ? limits.totalAllowance(fileBytes: fileSize) : fileSize
        if overflow || overflow2 || byteCount > limit {
            throw HDF5Error(file: file.name, path: path, operation: "read the dataset",
                            message: "it declares shape \(shape) of \(dtype.rawValue) (\(overflow || overflow2 ? "overflowing" : "\(byteCount)") bytes), more than the \(fileSize)-byte file can hold")
        }
        if let refusal = limits.refusal(count: count, elementBytes: dtype.byteCount) {
            throw HDF5Error(file: file.name, path: path, operation: "read the dataset",
                            message: "it declares shape \(shape) of \(dtype.rawValue): \(refusal)")
        }
        return (dtype, shape, byteCount)
    }

    /// Where the dataset's bytes lie in the file when they can be read there as they are: one
    /// contiguous, allocated, unfiltered block in the file itself (no external storage) whose file
    /// type is the memory type bnconv reads `dtype` through (little-endian, same size); else `nil`.
    /// `creation` is this dataset's ``creation()``.
    package func rawFileOffset(dtype: DType, byteCount: Int, creation: HDF5DatasetCreation) -> Int? {
        guard byteCount > 0, creation.layout == .contiguous, creation.filters.isEmpty,
              let plist = try? HDF5Handle.make(H5Dget_create_plist(id), .propertyList, file: file.name, path: path, "read the creation properties"),
              H5Pget_external_count(plist.id) == 0,
              let type = try? HDF5Handle.make(H5Dget_type(id), .datatype, file: file.name, path: path, "read the datatype"),
              let memory = try? HDF5ElementType.memoryType(for: dtype, fileType: type.id, file: file.name, path: path),
              H5Tequal(type.id, memory.id) > 0,
              H5Dget_storage_size(id) == hsize_t(byteCount) else { return nil }
        let offset = H5Dget_offset(id)
        guard offset != haddr_t.max, offset <= haddr_t(Int.max) else {
            _ = HDF5Library.takeErrorMessage()
            return nil
        }
        return Int(offset)
    }

    /// Has HDF5 allocate the storage of a new, unwritten contiguous dataset, writing only its first
    /// element (zero bytes), and returns where the storage lies in the file: the caller writes the
    /// bytes there itself (``ConcurrentTensorWriter``), all of them, element 0 included.
    ///
    /// HDF5 allocates a contiguous dataset's whole storage on the first write and, with the
    /// default fill value and fill time (if set), fills nothing. The file must have been created
    /// with ``HDF5File/create(_:overwrite:unbufferedRawData:)`` so that the element goes to the
    /// file at once instead of waiting in HDF5's sieve buffer (which would later write over the
    /// caller's bytes). The dataset's creation properties are those it was made with.
    package func reserveContiguousStorage() throws -> Int {
        let space = try HDF5Handle.make(H5Dget_space(id), .dataspace, file: file.name, path: path, "read the dataspace")
        let rank = H5Sget_simple_extent_ndims(space.id)
        try HDF5Library.check(rank, file: file.name, path: path, "read the rank")
        var count: hsize_t = 1
        let one = try HDF5Handle.make(H5Screate_simple(1, &count, nil), .dataspace, file: file.name, path: path, "make a one-element dataspace")
        if rank > 0 {
            var origin = [hsize_t](repeating: 0, count: Int(rank))
            try HDF5Library.check(H5Sselect_elements(space.id, H5S_SELECT_SET, 1, &origin), file: file.name, path: path, "select the first element")
        }
        let type = try HDF5Handle.make(H5Dget_type(id), .datatype, file: file.name, path: path, "read the datatype")
        let zero = [UInt8](repeating: 0, count: max(1, H5Tget_size(type.id)))
        let status = zero.withUnsafeBytes { H5Dwrite(id, type.id, one.id, space.id, chdf5_p_default(), $0.baseAddress) }
        try HDF5Library.check(status, file: file.name, path: path, "allocate the dataset's storage")
        let offset = H5Dget_offset(id)
        guard offset != haddr_t.max, offset <= haddr_t(Int.max) else {
            throw HDF5Error(file: file.name, path: path, operation: "find the dataset's storage", message: HDF5Library.takeErrorMessage())
        }
        return Int(offset)
    }

    /// Reads the whole dataset, after the checks of ``extent(creation:limits:)`` within `limits`.
    /// `creation`, when given, is this dataset's ``creation()`` read already.
    package func readTensor(creation known: HDF5DatasetCreation? = nil, limits: ReadLimits = ReadLimits()) throws -> Tensor {
        let type = try HDF5Handle.make(H5Dget_type(id), .datatype, file: file.name, path: path, "read the datatype")
        let (dtype, shape, byteCount) = try extent(type: type, creation: known, limits: limits)
        // Read straight into uninitialized storage: zero-filling first would touch every page twice.
        let memory = byteCount > 0 ? try HDF5ElementType.memoryType(for: dtype, fileType: type.id, file: file.name, path: path) : nil
        let bytes = try [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            initialized = byteCount
            guard let memory else { return }
            let status = H5Dread(id, memory.id, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), buffer.baseAddress)
            try HDF5Library.check(status, file: file.name, path: path, "read the dataset")
        }
        do {
            return try Tensor(dtype: dtype, shape: shape, bytes: bytes)
        } catch {
            throw HDF5Error(file: file.name, path: path, operation: "read the dataset", message: "\(error)")
        }
    }

    /// Creates `name` under `group` holding `tensor`, with `creation`'s layout and filters
    /// (chunk dimensions clamped to the tensor's shape).
    static func create(in group: HDF5Group, name: String, tensor deferredOrLoaded: Tensor, creation: HDF5DatasetCreation) throws -> HDF5Dataset {
        let tensor = try deferredOrLoaded.materialized()
        let dataset = try create(in: group, name: name, dtype: tensor.dtype, shape: tensor.shape, creation: creation)
        if tensor.count > 0 {
            let memory = try HDF5ElementType.memoryType(for: tensor.dtype, fileType: nil, file: group.file.name, path: dataset.path)
            let status = tensor.bytes.withUnsafeBytes {
                H5Dwrite(dataset.id, memory.id, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
            try HDF5Library.check(status, file: group.file.name, path: dataset.path, "write the dataset")
        }
        return dataset
    }

    /// Creates `name` under `group` for `shape` elements of `dtype` without writing them (HDF5
    /// allocates storage on the first write). bfloat16 gets Keras's `dtype` attribute.
    static func create(in group: HDF5Group, name: String, dtype: DType, shape: [Int], creation: HDF5DatasetCreation) throws -> HDF5Dataset {
        let file = group.file.name
        let path = HDF5Library.join(group.path, name)
        let fileType = try HDF5ElementType.makeFileType(for: dtype, file: file, path: path)
        let space = try HDF5Handle.dataspace(shape: shape.isEmpty ? nil : shape, file: file, path: path)
        let dcpl = try creation.makePropertyList(shape: shape, file: file, path: path)
        let lcpl = try HDF5Group.intermediateLinkList(file: file, path: path)
        let id = try HDF5Library.checked(H5Dcreate2(group.id, name, fileType.id, space.id, lcpl.id, dcpl.id, chdf5_p_default()),
                                         file: file, path: path, "create the dataset")
        let dataset = HDF5Dataset(id: id, path: path, file: group.file)
        if dtype == .bfloat16 {
            try dataset.writeStrings("dtype", ["bfloat16"], encoding: .variableUTF8, scalar: true)
        }
        return dataset
    }
}
