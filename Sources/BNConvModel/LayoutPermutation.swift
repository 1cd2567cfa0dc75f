import BNConvCore

/// Axis bookkeeping for switching activations between channels-last and channels-first
/// (docs/math.md, Layouts). Axes count the batch dimension.
package enum LayoutPermutation {
    /// Where axis `axis` of a rank-`rank` tensor in layout `from` lies in layout `to`.
    package static func mapAxis(_ axis: Int, rank: Int, from: DataLayout, to: DataLayout) -> Int {
        let a = Op.resolveAxis(axis, rank: rank)
        if from == to || a == 0 || rank < 3 { return a }
        if from == .channelsLast {          // (N, S..., C) -> (N, C, S...)
            return a == rank - 1 ? 1 : a + 1
        } else {                            // (N, C, S...) -> (N, S..., C)
            return a == 1 ? rank - 1 : a - 1
        }
    }

    /// A shape in layout `from` rewritten for layout `to`.
    package static func mapShape<T>(_ shape: [T], from: DataLayout, to: DataLayout) -> [T] {
        let rank = shape.count
        guard from != to, rank >= 3 else { return shape }
        var out = shape
        for a in 0..<rank { out[mapAxis(a, rank: rank, from: from, to: to)] = shape[a] }
        return out
    }

    /// The Keras `Permute` dims (1-based, batch excluded) that turn layout `from` into `to`.
    package static func permuteDims(rank: Int, from: DataLayout, to: DataLayout) -> [Int] {
        // Output axis j (1-based over non-batch axes) reads input axis dims[j-1].
        var dims = [Int](repeating: 0, count: rank - 1)
        for a in 1..<rank { dims[mapAxis(a, rank: rank, from: from, to: to) - 1] = a }
        return dims
    }

    /// The transpose (numpy order, batch axis first and kept) that turns a rank-`rank` tensor in
    /// layout `from` into layout `to`; the identity when they are the same.
    package static func transposition(rank: Int, from: DataLayout, to: DataLayout) -> [Int] {
        rank < 3 ? Array(0..<max(rank, 0)) : [0] + permuteDims(rank: rank, from: from, to: to)
    }

    /// Whether `p` leaves every axis where it is.
    package static func isIdentity(_ p: [Int]) -> Bool { p.enumerated().allSatisfy { $0.offset == $0.element } }

    /// The inverse of a transpose: `inverse(p)[p[i]] = i`.
    package static func inverse(_ p: [Int]) -> [Int] {
        var inv = [Int](repeating: 0, count: p.count)
        for (i, axis) in p.enumerated() { inv[axis] = i }
        return inv
    }

    /// `first` then `second`: `x.transposed(first).transposed(second) == x.transposed(composed(first, second))`.
    package static func composed(_ first: [Int], _ second: [Int]) -> [Int] { second.map { first[$0] } }

    /// The transpose that takes `x.transposed(have)` to `x.transposed(want)`.
    package static func bridge(from have: [Int], to want: [Int]) -> [Int] {
        let inv = inverse(have)
        return want.map { inv[$0] }
    }

    /// A shape transposed by `p` (numpy order).
    package static func permuted<T>(_ shape: [T], by p: [Int]) -> [T] { p.map { shape[$0] } }

    /// Where axis `axis` of a tensor lies once the tensor is transposed by `p`.
    package static func position(of axis: Int, in p: [Int]) -> Int? { p.firstIndex(of: axis) }

    /// For the flattened feature vector of a tensor whose dimensions after the batch are `dims`,
    /// transposed by `p` (numpy order, batch first) before flattening: `rows[newIndex] = oldIndex`,
    /// the element of the original flattened vector each converted one holds.
    package static func flattenRowPermutation(dims: [Int], transposedBy p: [Int]) -> [Int] {
        let count = dims.reduce(1, *)
        var strides = [Int](repeating: 1, count: dims.count)
        for a in stride(from: dims.count - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * dims[a + 1] }
        let newDims = p.dropFirst().map { dims[$0 - 1] }
        let newStrides = p.dropFirst().map { strides[$0 - 1] }
        var rows = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: newDims.count)
        var offset = 0
        for k in 0..<count {
            rows[k] = offset
            // Odometer over the converted dims (last fastest), carrying the original offset.
            var a = newDims.count - 1
            while a >= 0 {
                index[a] += 1
                offset += newStrides[a]
                if index[a] < newDims[a] { break }
                offset -= newStrides[a] * newDims[a]
                index[a] = 0
                a -= 1
            }
        }
        return rows
    }

    /// `tensor` with its rows (axis 0) gathered: `out[i] = in[perm[i]]`; exact for every dtype.
    package static func gatherRows(_ tensor: Tensor, _ perm: [Int]) throws -> Tensor {
        let rows = tensor.shape[0]
        let rowBytes = tensor.bytes.count / max(rows, 1)
        var out = [UInt8](repeating: 0, count: tensor.bytes.count)
        tensor.bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for (i, j) in perm.enumerated() {
                    dst.baseAddress!.advanced(by: i * rowBytes)
                        .copyMemory(from: src.baseAddress!.advanced(by: j * rowBytes), byteCount: rowBytes)
                }
            }
        }
        return try Tensor(dtype: tensor.dtype, shape: tensor.shape, bytes: out)
    }
}
