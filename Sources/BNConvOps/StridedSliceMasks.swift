/// TensorFlow's `StridedSlice` with its five masks (tensorflow/core/util/strided_slice_op.cc
/// defines them): `begin`/`end` bits take the whole range, an `ellipsis` bit stands for every axis
/// the spec does not name, a `newAxis` bit inserts an axis of size 1, a `shrinkAxis` bit takes one
/// index and drops the axis.
struct StridedSliceMasks: Sendable {
    /// Bit `i`: ignore `begin[i]`.
    let begin: Int
    /// Bit `i`: ignore `end[i]`.
    let end: Int
    /// Bit `i`: position `i` is the ellipsis.
    let ellipsis: Int
    /// Bit `i`: position `i` inserts an axis.
    let newAxis: Int
    /// Bit `i`: position `i` takes one element and removes the axis.
    let shrinkAxis: Int

    /// The slice of `x`.
    func slice(_ x: HostTensor, begin b: [Int], end e: [Int], strides s: [Int]) throws -> HostTensor {
        let m = b.count
        guard e.count == m, s.count == m, m <= 64 else {
            throw OpError.invalid(op: "StridedSlice", problem: "begin, end and strides must have one length (at most 64)")
        }
        func bit(_ mask: Int, _ i: Int) -> Bool { mask & (1 << i) != 0 }
        let named = (0..<m).filter { !bit(ellipsis, $0) && !bit(newAxis, $0) }.count
        guard (0..<m).filter({ bit(ellipsis, $0) }).count <= 1 else {
            throw OpError.invalid(op: "StridedSlice", problem: "more than one ellipsis")
        }
        // Dense per-axis plan: start, stride, length, whether the axis stays.
        var starts = [Int](), steps = [Int](), lengths = [Int](), outShape = [Int]()
        var axis = 0
        func full(_ n: Int) { starts.append(0); steps.append(1); lengths.append(n); outShape.append(n) }
        for i in 0..<m {
            if bit(ellipsis, i) {
                let covered = x.rank - named
                guard covered >= 0 else { throw OpError.invalid(op: "StridedSlice", problem: "the spec names more axes than shape \(x.shape) has") }
                for _ in 0..<covered { full(x.shape[axis]); axis += 1 }
                continue
            }
            if bit(newAxis, i) { outShape.append(1); continue }
            guard axis < x.rank else { throw OpError.invalid(op: "StridedSlice", problem: "the spec names more axes than shape \(x.shape) has") }
            let n = x.shape[axis], stride = s[i]
            guard stride != 0 else { throw OpError.invalid(op: "StridedSlice", problem: "a stride of 0") }
            if bit(shrinkAxis, i) {
                let index = b[i] < 0 ? b[i] + n : b[i]
                guard index >= 0 && index < n else {
                    throw OpError.invalid(op: "StridedSlice", problem: "index \(b[i]) is outside axis \(axis) of size \(n)")
                }
                starts.append(index); steps.append(1); lengths.append(1)
                axis += 1
                continue
            }
            let (low, high) = stride > 0 ? (0, n) : (-1, n - 1)
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + n : v, low), high) }
            let start = bit(begin, i) ? (stride > 0 ? 0 : n - 1) : clamp(b[i])
            let stop = bit(end, i) ? (stride > 0 ? n : -1) : clamp(e[i])
            let length = stride > 0 ? max(0, (stop - start + stride - 1) / stride) : max(0, (start - stop - stride - 1) / -stride)
            starts.append(start); steps.append(stride); lengths.append(length); outShape.append(length)
            axis += 1
        }
        while axis < x.rank { full(x.shape[axis]); axis += 1 }
        _ = try Shapes.count(lengths, op: "StridedSlice")
        let strides = Shapes.strides(x.shape)
        let offset = zip(starts, strides).reduce(0) { $0 + $1.0 * $1.1 }
        let indices = Shapes.indexMap(lengths) { zip(steps, strides).map { $0 * $1 } }.map { $0 + offset }
        return HostTensor(dtype: x.dtype, shape: outShape, storage: x.storage.gathered(indices))
    }
}
