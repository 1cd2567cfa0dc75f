import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Softmax along one axis: `exp(x - max) / sum(exp(x - max))`.
enum Softmax {
    /// Writes the softmax of `input` along the geometry's channel axis to `output` (may alias), on
    /// `parallel`'s cores.
    static func apply(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry g: ChannelGeometry,
                      parallel: Parallel) {
        parallel.ranges(g.outer, costPerItem: g.channels * g.inner * 8) { range in
            for o in range {
                for i in 0..<g.inner {
                    let base = o * g.channels * g.inner + i
                    var m = -Float.infinity
                    for c in 0..<g.channels { m = max(m, input[base + c * g.inner]) }
                    var sum: Float = 0
                    for c in 0..<g.channels {
                        let e = expf(input[base + c * g.inner] - m)
                        output[base + c * g.inner] = e
                        sum += e
                    }
                    let inv = 1 / sum
                    for c in 0..<g.channels { output[base + c * g.inner] *= inv }
                }
            }
        }
    }
}
