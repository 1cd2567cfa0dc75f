import BNConvCore
import BNConvModel
import BNConvInterop

/// NumPy-style broadcasting of size-1 (and missing leading) dimensions for element-wise ops.
enum Broadcast {
    /// The broadcast shape of `shapes` (right-aligned), or `nil` when two sizes differ and neither is 1.
    static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for s in shapes {
            for (i, d) in s.enumerated() {
                let a = rank - s.count + i
                if out[a] == 1 { out[a] = d } else if d != 1 && d != out[a] { return nil }
            }
        }
        return out
    }

    /// Calls `combine(out, in, count, inStride)` for runs along the last axis: writes `op(out, in)`
    /// over `output` (`outShape`) reading `input` (`inShape`) broadcast to it.
    static func combine(output: UnsafeMutablePointer<Float>, outShape: [Int], input: UnsafePointer<Float>, inShape: [Int],
                        _ op: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int) -> Void) {
        let rank = outShape.count
        let total = outShape.reduce(1, *)
        guard total > 0 else { return }
        if inShape.reduce(1, *) == total {
            op(output, input, total, 1)
            return
        }
        let padded = Array(repeating: 1, count: rank - inShape.count) + inShape
        let dense = Tensor.strides(of: padded)
        let strides = (0..<rank).map { padded[$0] == 1 ? 0 : dense[$0] }
        let last = outShape[rank - 1], lastStride = strides[rank - 1]
        let rows = total / last
        var index = [Int](repeating: 0, count: rank)
        var src = 0
        for r in 0..<rows {
            op(output + r * last, input + src, last, lastStride)
            var a = rank - 2
            while a >= 0 {
                index[a] += 1
                src += strides[a]
                if index[a] < outShape[a] { break }
                src -= strides[a] * index[a]
                index[a] = 0
                a -= 1
            }
        }
    }
}
