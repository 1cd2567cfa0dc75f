import Foundation
import BNConvModel

/// The activations a layer may apply inside itself (Keras `activation=`), in Double, for the
/// float64 reference (``Float64Reference``); definitions from Keras 3 `keras/src/activations`, tf_keras
/// `backend.relu` (`max_value`, `threshold`, negative slope), `tf.nn.gelu`, SELU's constants from
/// Klambauer et al. 2017.
enum Float64Activation {
    /// `f(values)`; softmax normalizes each run of `lastAxis` consecutive values.
    static func apply(_ activation: Activation, _ values: [Double], lastAxis: Int) -> [Double] {
        switch activation {
        case .linear: return values
        case .softmax: return softmax(values, lastAxis: lastAxis)
        default: return values.map { value(activation, $0) }
        }
    }

    /// One element of an element-wise activation (softmax is not one: it is returned unchanged).
    static func value(_ activation: Activation, _ x: Double) -> Double {
        switch activation {
        case .linear, .softmax: return x
        case let .relu(maxValue, threshold, negativeSlope):
            // tf_keras backend.relu: x where x > threshold (x >= 0 without one), else 0; clipped to
            // max_value; minus negative_slope * (threshold - x) below the threshold.
            var y = threshold != 0 ? (x > threshold ? x : 0) : max(x, 0)
            if let maxValue { y = min(max(y, 0), maxValue) }
            if negativeSlope != 0 { y -= negativeSlope * max(threshold - x, 0) }
            return y
        case .relu6: return min(max(x, 0), 6)
        case .leakyRelu(let alpha): return x >= 0 ? x : alpha * x
        case .elu(let alpha): return x > 0 ? x : alpha * expm1(x)
        case .sigmoid: return sigmoid(x)
        case let .hardSigmoid(slope, offset): return min(max(slope * x + offset, 0), 1)
        case .swish: return x * sigmoid(x)
        case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
        case .tanh: return Foundation.tanh(x)
        case .gelu(let approximate):
            if approximate {
                return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            }
            return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .softplus: return softplus(x)
        case .softsign: return x / (1 + abs(x))
        case .exponential: return exp(x)
        case .selu:
            let scale = 1.0507009873554804934193349852946, alpha = 1.6732632423543772848170429916717
            return x > 0 ? scale * x : scale * alpha * expm1(x)
        case .mish: return x * Foundation.tanh(softplus(x))
        }
    }

    /// The bound a rounding error of at most `u * m` in the activation's input carries to its output,
    /// per element `m` of `magnitudes` (``Float64Reference/roundingScale(_:inputs:budget:)``): the error
    /// times the activation's largest slope (at most 2 but for a larger `alpha`, negative slope or
    /// hard-sigmoid slope; `exp(m)` for the exponential), plus one for the activation's own
    /// rounding of a result at most `|f|`. (Softmax moves by at most twice its inputs' largest change.)
    static func magnitudes(_ activation: Activation, _ magnitudes: [Double]) -> [Double] {
        let slope: Double
        switch activation {
        case .linear: return magnitudes
        case .exponential: return magnitudes.map { ($0 + 1) * exp($0) }
        case let .relu(_, _, negativeSlope): slope = max(2, abs(negativeSlope))
        case .leakyRelu(let alpha), .elu(let alpha): slope = max(2, abs(alpha))
        case .hardSigmoid(let s, _): slope = max(2, abs(s))
        default: slope = 2
        }
        return magnitudes.map { slope * $0 + 1 }
    }

    /// `exp(x - max) / sum exp(x - max)` over each run of `lastAxis` values.
    static func softmax(_ values: [Double], lastAxis: Int) -> [Double] {
        guard lastAxis > 0 else { return values }
        var out = values
        for start in stride(from: 0, to: values.count, by: lastAxis) {
            let row = start..<min(start + lastAxis, values.count)
            let top = values[row].max() ?? 0
            var sum = 0.0
            for i in row { out[i] = exp(values[i] - top); sum += out[i] }
            for i in row { out[i] /= sum }
        }
        return out
    }

    /// `1 / (1 + exp(-x))`.
    private static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    /// `log(1 + exp(x))` without overflow.
    private static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
}
