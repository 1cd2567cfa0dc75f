import Dispatch
import BNConvCore
import BNConvModel
import BNConvInterop

/// The per-channel affine map a BatchNorm applies, `y = x * scale + shift`, in TensorFlow's own
/// arrangement of `tf.nn.batch_normalization`: `inv = rsqrt(variance + epsilon) * gamma`,
/// `y = x * inv + (beta - mean * inv)`. Coefficients are computed in Double and rounded once.
public struct BatchNormCoefficients: Equatable, Sendable {
    /// `gamma / sqrt(variance + epsilon)` per channel.
    public var scale: [Double]
    /// `beta - mean * scale` per channel.
    public var shift: [Double]

    /// Coefficients from statistics; `gamma == nil` means `scale=False` (gamma = 1), `beta == nil`
    /// means `center=False` (beta = 0).
    public init(mean: [Double], variance: [Double], gamma: [Double]?, beta: [Double]?, epsilon: Double) {
        precondition(mean.count == variance.count, "BatchNorm mean/variance counts differ")
        var scale = [Double](repeating: 0, count: mean.count)
        var shift = scale
        for c in mean.indices {
            let inv = 1 / (variance[c] + epsilon).squareRoot() * (gamma?[c] ?? 1)
            scale[c] = inv
            shift[c] = (beta?[c] ?? 0) - mean[c] * inv
        }
        self.scale = scale
        self.shift = shift
    }

    /// Applies the map to `input` laid out as `geometry` says, writing `output` (may alias `input`).
    /// Runs on `threads` cores (every core when `nil`) for large tensors.
    public func apply(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry g: ChannelGeometry,
                      threads: Int? = nil) {
        apply(input: input, output: output, geometry: g, parallel: Parallel(threads: threads))
    }

    /// Applies the map to `input` laid out as `geometry` says, writing `output` (may alias `input`),
    /// on `parallel`'s cores for large tensors.
    func apply(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, geometry g: ChannelGeometry,
               parallel: Parallel) {
        let s = scale.map(Float.init), b = shift.map(Float.init)
        s.withUnsafeBufferPointer { sp in
            b.withUnsafeBufferPointer { bp in
                let rows = g.outer
                let work = g.count
                let chunks = work >= 1 << 15 ? min(rows, parallel.workers * 4) : 1
                parallel.forEach(chunks) { chunk in
                    let lo = rows * chunk / chunks, hi = rows * (chunk + 1) / chunks
                    for o in lo..<hi {
                        if g.inner == 1 {
                            let base = o * g.channels
                            for c in 0..<g.channels { output[base + c] = input[base + c] * sp[c] + bp[c] }
                        } else {
                            for c in 0..<g.channels {
                                let base = (o * g.channels + c) * g.inner
                                let sc = sp[c], sh = bp[c]
                                for i in 0..<g.inner { output[base + i] = input[base + i] * sc + sh }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Applies the map in `T` precision to `x` laid out as `geometry` says.
    public func apply<T: BinaryFloatingPoint>(_ x: [T], geometry g: ChannelGeometry) -> [T] {
        precondition(x.count == g.count, "BatchNorm input of \(x.count) values over geometry \(g)")
        var y = x
        for o in 0..<g.outer {
            for c in 0..<g.channels {
                let base = (o * g.channels + c) * g.inner
                let sc = T(scale[c]), sh = T(shift[c])
                for i in 0..<g.inner { y[base + i] = x[base + i] * sc + sh }
            }
        }
        return y
    }
}
