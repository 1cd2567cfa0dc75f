import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Applies an ``Activation`` element-wise with TensorFlow/Keras definitions, in float32.
///
/// Sources of the formulas: Keras 3 `keras/src/activations/activations.py` and tf_keras
/// `tf_keras/src/backend.py` (`relu` with `max_value`/`threshold`/negative slope), TensorFlow's
/// `tf.nn.gelu` (exact: `0.5 x (1 + erf(x / sqrt 2))`), SELU's constants from Klambauer et al.
enum ActivationFunction {
    /// Writes `f(input)` to `output` (may alias) for `count` elements laid out with `lastAxis`
    /// elements per row (used by softmax only). Runs on `parallel`'s cores for large tensors.
    static func apply(_ activation: Activation, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                      count: Int, lastAxis: Int, parallel: Parallel) {
        if activation == .linear {
            if UnsafePointer(output) != input { output.update(from: input, count: count) }
            return
        }
        if activation == .softmax {
            let geometry = ChannelGeometry(outer: count / max(lastAxis, 1), channels: lastAxis, inner: 1)
            Softmax.apply(input: input, output: output, geometry: geometry, parallel: parallel)
            return
        }
        parallel.ranges(count, costPerItem: 4) { range in
            applySerially(activation, input: input + range.lowerBound, output: output + range.lowerBound, count: range.count)
        }
    }

    /// Writes `f(input)` to `output` (may alias) for `count` elements on the calling thread.
    /// Softmax is not element-wise and is not handled here (it is left unchanged).
    static func applySerially(_ activation: Activation, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                              count n: Int) {
        switch activation {
        case .linear:
            if UnsafePointer(y) != x { y.update(from: x, count: n) }
        case .softmax: break
        case .relu(nil, 0, 0):
            map(x, y, n) { max($0, 0) }
        case let .relu(maxValue, threshold, slope):
            let t = Float(threshold), s = Float(slope), m = maxValue.map(Float.init)
            map(x, y, n) { v in
                var r: Float = threshold != 0 ? (v > t ? v : 0) : max(v, 0)
                if let m { r = min(max(r, 0), m) }
                if s != 0 { r -= s * max(t - v, 0) }
                return r
            }
        case .relu6:
            map(x, y, n) { min(max($0, 0), 6) }
        case .leakyRelu(let alpha):
            let a = Float(alpha)
            map(x, y, n) { v in v >= 0 ? v : a * v }
        case .elu(let alpha):
            let a = Float(alpha)
            map(x, y, n) { v in v > 0 ? v : a * expm1f(v) }
        case .sigmoid:
            map(x, y, n) { FastExponential.sigmoid($0) }
        case let .hardSigmoid(slope, offset):
            let s = Float(slope), o = Float(offset)
            map(x, y, n) { min(max(s * $0 + o, 0), 1) }
        case .swish:
            map(x, y, n) { v in v * FastExponential.sigmoid(v) }
        case .hardSwish:
            map(x, y, n) { v in v * (min(max(v + 3, 0), 6) / 6) }
        case .tanh:
            map(x, y, n) { tanhf($0) }
        case .gelu(let approximate):
            if approximate {
                let k = Float((2.0 / Double.pi).squareRoot())
                map(x, y, n) { v in 0.5 * v * (1 + tanhf(k * (v + 0.044715 * v * v * v))) }
            } else {
                let r = Float(1 / 2.0.squareRoot())
                map(x, y, n) { v in 0.5 * v * (1 + erff(v * r)) }
            }
        case .softplus:
            map(x, y, n) { softplus($0) }
        case .softsign:
            map(x, y, n) { v in v / (1 + abs(v)) }
        case .exponential:
            map(x, y, n) { expf($0) }
        case .selu:
            let scale: Float = 1.0507009873554804934193349852946
            let alpha: Float = 1.6732632423543772848170429916717
            map(x, y, n) { v in v > 0 ? scale * v : scale * alpha * expm1f(v) }
        case .mish:
            map(x, y, n) { v in v * tanhf(softplus(v)) }
        }
    }

    /// `y[i] = f(x[i])` for `n` elements. In place (`y` is `x`) it reads and writes through one
    /// pointer: the loop then vectorizes, where two pointers that might overlap would keep it
    /// element by element (an in-place activation's pointers do overlap, so the overlap check
    /// would always send it to the scalar loop).
    @inline(__always)
    private static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ f: (Float) -> Float) {
        if UnsafePointer(y) == x {
            for i in 0..<n { y[i] = f(y[i]) }
        } else {
            for i in 0..<n { y[i] = f(x[i]) }
        }
    }

    /// `log(1 + exp(x))`, stable for large |x|.
    @inline(__always)
    static func softplus(_ v: Float) -> Float { max(v, 0) + log1pf(expf(-abs(v))) }
}
