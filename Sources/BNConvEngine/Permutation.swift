import BNConvCore
import BNConvModel
import BNConvInterop

/// Axis permutation of float buffers (numpy `transpose`), used for layout changes and Permute.
enum Permutation {
    /// Writes `source` (C order, `shape`) permuted so result axis `i` is source axis `perm[i]`, on
    /// `parallel`'s cores.
    static func apply(_ source: UnsafePointer<Float>, shape: [Int], perm: [Int], into destination: UnsafeMutablePointer<Float>,
                      parallel: Parallel) {
        let rank = shape.count
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        if perm == Array(0..<rank) {
            destination.update(from: source, count: count)
            return
        }
        let srcStrides = Tensor.strides(of: shape)
        let outShape = perm.map { shape[$0] }
        let stridesOut = perm.map { srcStrides[$0] }
        // Parallel over the first output axis' positions (or whole if rank 1).
        let innerCount = outShape[1...].reduce(1, *)
        let lastStride = stridesOut[rank - 1], lastSize = outShape[rank - 1]
        parallel.ranges(outShape[0], costPerItem: innerCount) { range in
            var index = [Int](repeating: 0, count: rank)
            for first in range {
                var dst = destination + first * innerCount
                let rowsInner = innerCount / max(lastSize, 1)
                for i in 1..<rank { index[i] = 0 }
                for _ in 0..<rowsInner {
                    var src = first * stridesOut[0]
                    for a in 1..<(rank - 1) { src += index[a] * stridesOut[a] }
                    if lastStride == 1 {
                        dst.update(from: source + src, count: lastSize)
                    } else {
                        for j in 0..<lastSize { dst[j] = source[src + j * lastStride] }
                    }
                    dst += lastSize
                    var a = rank - 2
                    while a >= 1 {
                        index[a] += 1
                        if index[a] < outShape[a] { break }
                        index[a] = 0
                        a -= 1
                    }
                }
            }
        }
    }

    /// The permutation taking channels-first (N, C, spatial...) to channels-last (N, spatial..., C).
    static func toChannelsLast(rank: Int) -> [Int] { [0] + Array(2..<rank) + [1] }
    /// The permutation taking channels-last to channels-first.
    static func toChannelsFirst(rank: Int) -> [Int] { [0, rank - 1] + Array(1..<(rank - 1)) }

    /// `value` permuted into a fresh value.
    static func permute(_ value: EngineValue, _ perm: [Int], _ context: KernelContext) throws -> EngineValue {
        let out = try context.allocate(perm.map { value.shape[$0] })
        apply(value.pointer, shape: value.shape, perm: perm, into: out.pointer, parallel: context.parallel)
        return out
    }
}
