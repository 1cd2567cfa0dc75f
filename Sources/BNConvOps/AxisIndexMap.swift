/// Index maps built axis by axis: every output element reads the source element whose coordinate
/// along each axis is a function of the output coordinate along that axis alone (slice, pad,
/// tile, permuted views). With ``HostStorage/gathered(_:fill:)`` they make one layout op cover
/// every storage kind.
extension Shapes {
    /// The source indices of every element of `outShape` (C order) in a C-order tensor of
    /// `sourceShape`, where `coordinates[a][c]` is the source coordinate along axis `a` of output
    /// coordinate `c` (-1: no source element, the index is -1, a fill).
    ///
    /// `coordinates[a]` holds `outShape[a]` entries, each -1 or within `sourceShape[a]`.
    static func axisWiseIndexMap(_ outShape: [Int], sourceShape: [Int], coordinates: [[Int]]) -> [Int] {
        let n = outShape.reduce(1, *)
        guard n > 0 else { return [] }
        let rank = outShape.count
        if rank == 0 { return [0] }
        let strides = Shapes.strides(sourceShape)
        let offsets = (0..<rank).map { a in coordinates[a].map { $0 < 0 ? -1 : $0 * strides[a] } }
        let inner = offsets[rank - 1]
        var out = [Int](repeating: -1, count: n)
        var counter = [Int](repeating: 0, count: rank)
        var k = 0
        while k < n {
            var base = 0
            var missing = false
            for a in 0..<(rank - 1) {
                let o = offsets[a][counter[a]]
                if o < 0 { missing = true; break }
                base += o
            }
            if !missing {
                for j in 0..<inner.count where inner[j] >= 0 { out[k + j] = base + inner[j] }
            }
            k += inner.count
            var a = rank - 2
            while a >= 0 {
                counter[a] += 1
                if counter[a] < outShape[a] { break }
                counter[a] = 0
                a -= 1
            }
        }
        return out
    }

    /// The source indices of the transpose of a C-order tensor of `shape` by `permutation`
    /// (output axis `i` is source axis `permutation[i]`), with the transposed shape.
    static func permutedIndexMap(_ shape: [Int], permutation: [Int]) -> (indices: [Int], shape: [Int]) {
        let strides = Shapes.strides(shape)
        let outShape = permutation.map { shape[$0] }
        return (indexMap(outShape) { permutation.map { strides[$0] } }, outShape)
    }
}

extension HostTensor {
    /// A tensor of this dtype and `shape` holding the elements at `indices` (-1: `fill`).
    func picking(_ indices: [Int], shape: [Int], fill: Double = 0) -> HostTensor {
        HostTensor(dtype: dtype, shape: shape, storage: storage.gathered(indices, fill: fill))
    }

    /// A tensor of this dtype and `shape` holding the elements at `indices`, where -1 reads the
    /// single element of `fill` (of this dtype: an int64 fill stays exact).
    func picking(_ indices: [Int], shape: [Int], fillElement fill: HostTensor) -> HostTensor {
        func pick<T>(_ v: [T], _ pad: T) -> [T] { indices.map { $0 < 0 ? pad : v[$0] } }
        let storage: HostStorage
        switch (self.storage, fill.storage) {
        case let (.float(v), .float(f)) where f.count == 1: storage = .float(pick(v, f[0]))
        case let (.double(v), .double(f)) where f.count == 1: storage = .double(pick(v, f[0]))
        case let (.int(v), .int(f)) where f.count == 1: storage = .int(pick(v, f[0]))
        case let (.bool(v), .bool(f)) where f.count == 1: storage = .bool(pick(v, f[0]))
        default: storage = self.storage.gathered(indices, fill: fill.storage.doubles.first ?? 0)
        }
        return HostTensor(dtype: dtype, shape: shape, storage: storage)
    }
}
