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
        let rank = shape.count
        guard rank > 0, !lengths.contains(0) else { return nil }
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        let run = lengths[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1)
        var sourceOffset = 0
        let runBytes = run * elementBytes
        while true {
            var target = starts[rank - 1]
            for d in 0..<(rank - 1) { target += (starts[d] + index[d]) * strides[d] }
            for element in target..<(target + run) {
                let (word, bit) = (element >> 6, UInt64(1) << UInt64(element & 63))
                if covered[word] & bit != 0 { return element }
                covered[word] |= bit
            }
            coveredCount += run
            bytes.withUnsafeMutableBytes { out in
                out.baseAddress!.advanced(by: target * elementBytes)
                    .copyMemory(from: source.baseAddress!.advanced(by: sourceOffset), byteCount: runBytes)
            }
            sourceOffset += runBytes
            // The next row of the slice, outer dimensions as an odometer.
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                if index[d] < lengths[d] { break }
                index[d] = 0
                d -= 1
            }
            if d < 0 { return nil }
        }
    }
}
