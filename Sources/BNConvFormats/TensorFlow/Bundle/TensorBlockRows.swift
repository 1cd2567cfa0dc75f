/// The innermost rows of a block of a row-major tensor (a partition's slice of a whole variable):
/// where each row lies in the whole tensor and in the block's own row-major bytes. One walk serves
/// copying slices into the whole (``TensorSliceAssembly``) and a part out of it (a partitioned
/// variable's part, when a checkpoint is frozen).
enum TensorBlockRows {
    /// Calls `body(wholeElement, blockElement, count)` for each row of the block starting at
    /// `starts` with `lengths` in a tensor of `shape` (both within it: checked by the caller), in the
    /// block's row-major order, until `body` returns false. A rank-0 tensor is one row of one
    /// element; a block with a zero length has no rows.
    static func forEach(shape: [Int], starts: [Int], lengths: [Int], _ body: (Int, Int, Int) throws -> Bool) rethrows {
        let rank = shape.count
        guard rank > 0 else { _ = try body(0, 0, 1); return }
        guard !lengths.contains(0) else { return }
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        let run = lengths[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1)
        var blockElement = 0
        while true {
            var wholeElement = starts[rank - 1]
            for d in 0..<(rank - 1) { wholeElement += (starts[d] + index[d]) * strides[d] }
            guard try body(wholeElement, blockElement, run) else { return }
            blockElement += run
            // The next row of the block, outer dimensions as an odometer.
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                if index[d] < lengths[d] { break }
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
