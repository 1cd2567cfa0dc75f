/// Copies the slices of a partitioned tensor into the whole tensor's bytes (row-major), and checks
/// that they tile it: no element is covered twice, and the slices' elements add up to the
/// tensor's, so none is left out (what TensorFlow's `TensorSliceSet` requires to restore it whole).
struct TensorSliceAssembly {
    /// The whole tensor's dimensions.
    let shape: [Int]
    /// Bytes per element.
    let elementBytes: Int
    /// The whole tensor's bytes, filled slice by slice.
    private(set) var bytes: [UInt8]
    /// One bit per element: covered by a slice yet.
    private var covered: [UInt64]
    /// How many elements the slices covered so far.
    private(set) var coveredCount = 0

    /// Room for a tensor of `shape` (its element count already checked against the read limits).
    init(shape: [Int], elementBytes: Int) {
        self.shape = shape
        self.elementBytes = elementBytes
        let count = shape.reduce(1, *)
        bytes = [UInt8](repeating: 0, count: count * elementBytes)
        covered = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    /// Whether every element was covered (the slices added up to the whole).
    var isComplete: Bool { coveredCount == shape.reduce(1, *) }

    /// Copies the slice whose start and length along each dimension are `starts` and `lengths`
    /// (within the shape: checked when the index was read) from `source`, its own row-major
    /// bytes. Returns the first element (row-major index) some slice before already covered, or nil.
    mutating func add(starts: [Int], lengths: [Int], from source: UnsafeRawBufferPointer) -> Int? {
        guard !shape.isEmpty else { return nil }
        var overlap: Int?
        let elementBytes = elementBytes
        TensorBlockRows.forEach(shape: shape, starts: starts, lengths: lengths) { target, offset, run in
            for element in target..<(target + run) {
                let (word, bit) = (element >> 6, UInt64(1) << UInt64(element & 63))
                if covered[word] & bit != 0 { overlap = element; return false }
                covered[word] |= bit
            }
            coveredCount += run
            bytes.withUnsafeMutableBytes { out in
                out.baseAddress!.advanced(by: target * elementBytes)
                    .copyMemory(from: source.baseAddress!.advanced(by: offset * elementBytes), byteCount: run * elementBytes)
            }
            return true
        }
        return overlap
    }
}
