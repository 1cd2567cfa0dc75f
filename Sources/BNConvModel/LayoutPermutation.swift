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

    /// For a flattened feature vector of a tensor with spatial sizes `spatial` and `channels`
    /// channels: `perm[newIndex] = oldIndex` when the flatten input switches from `from` to `to`.
    package static func flattenRowPermutation(spatial: [Int], channels: Int, from: DataLayout, to: DataLayout) -> [Int] {
        let s = spatial.reduce(1, *)
        var perm = [Int](repeating: 0, count: s * channels)
        for p in 0..<s {
            for c in 0..<channels {
                let last = p * channels + c        // channels-last flatten order
                let first = c * s + p              // channels-first flatten order
                if from == .channelsLast { perm[to == .channelsFirst ? first : last] = last }
                else { perm[to == .channelsLast ? last : first] = first }
            }
        }
        return perm
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
