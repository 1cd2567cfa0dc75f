import Foundation
import BNConvCore
import BNConvModel

/// Where folding a BatchNorm into a layer would write values that layer's half-precision weights
/// cannot hold: a float16 weight beyond 65504 (65520 and beyond round to infinity), a bfloat16 one
/// beyond about 3.39e38. The folded values are computed in Double exactly as ``FoldBatchNorm``
/// computes them, and the kernel and bias are checked in their own dtypes (a layer without a bias
/// gets one in the kernel's dtype). float32 and float64 weights are not checked: they overflow only
/// through a scale that a BN with a sound variance cannot have.
///
/// The fold planner refuses such a fold (``FoldPlanner``); ``BatchNormDiagnosis`` reports it as a
/// ``BatchNormWarning/Code/float16Overflow`` warning.
struct FoldOverflow: Equatable {
    /// One folded value beyond its dtype's range.
    struct Value: Equatable {
        /// The weight it would be written to (`kernel`, `pointwise_kernel`, `bias`).
        var role: WeightRole
        /// Its flat (C-order) index in that weight.
        var index: Int
        /// The folded value, in Double.
        var value: Double
        /// The weight's dtype.
        var dtype: DType
    }

    /// The first value beyond range (kernel elements in order, then the bias).
    var first: Value
    /// The value of largest magnitude beyond range.
    var worst: Value
    /// How many folded values are beyond range.
    var count: Int
    /// How many of the BN's channels hold at least one of them.
    var channels: Int

    /// Whether folded values in `dtype` are checked: float16 and bfloat16.
    static func checks(_ dtype: DType) -> Bool { dtype == .float16 || dtype == .bfloat16 }

    /// Whether `value` rounds to infinity in `dtype` (an infinite value too; false for NaN and for
    /// dtypes that are not checked).
    static func overflows(_ value: Double, in dtype: DType) -> Bool {
        guard !value.isNaN else { return false }
        switch dtype {
        case .float16: return Float16(value).isInfinite
        case .bfloat16: return HalfPrecision.bfloat16Bits(from: value) & 0x7FFF == 0x7F80
        default: return false
        }
    }

    /// The largest finite value of `dtype`, for messages (65504 for float16).
    static func largestFinite(_ dtype: DType) -> Double {
        switch dtype {
        case .float16: return Double(Float16.greatestFiniteMagnitude)
        case .bfloat16: return Double(HalfPrecision.float(fromBFloat16Bits: 0x7F7F))
        case .float32: return Double(Float.greatestFiniteMagnitude)
        default: return Double.greatestFiniteMagnitude
        }
    }

    /// Whether folding into `layer` could overflow at all: its kernel (or bias) is float16 or bfloat16.
    static func mayOverflow(_ layer: Node, kernel: Weight) -> Bool {
        checks(kernel.tensor.dtype) || checks(layer.weight(.bias)?.tensor.dtype ?? kernel.tensor.dtype)
    }

    /// A BN folded into the output channels of `producer` (`W' = W * s`, `b' = b * s + shift`),
    /// `kernel` seen through `view`; nil when every value fits (or a weight cannot be read).
    static func intoProducer(_ producer: Node, kernel: Weight, view: ChannelView, affine: BatchNormAffine) -> FoldOverflow? {
        var found = Found()
        if checks(kernel.tensor.dtype), let values = try? kernel.tensor.materialized().doubles(),
           values.count == view.outer * view.channels * view.inner {
            var index = 0
            for o in 0..<view.outer {
                for c in 0..<view.channels {
                    let channel = view.channel(outerIndex: o, c: c)
                    let s = affine.scale[channel]
                    for _ in 0..<view.inner {
                        found.check(values[index] * s, role: kernel.role, index: index, dtype: kernel.tensor.dtype, channel: channel)
                        index += 1
                    }
                }
            }
        }
        let bias = producer.weight(.bias)
        let biasType = bias?.tensor.dtype ?? kernel.tensor.dtype
        if checks(biasType) {
            guard let b = biasValues(bias, count: affine.channels) else { return found.result }
            for c in 0..<affine.channels {
                found.check(b[c] * affine.scale[c] + affine.shift[c], role: .bias, index: c, dtype: biasType, channel: c)
            }
        }
        return found.result
    }

    /// A BN folded into the input channels of the conv or dense `consumer` after it (`W' = W * s`
    /// along input channels, `b' = b + sum(W * shift)` per output channel); nil when every value
    /// fits (or a weight cannot be read).
    static func intoConsumer(_ consumer: Node, kernel: Weight, affine: BatchNormAffine) -> FoldOverflow? {
        guard let view = ChannelView.input(of: kernel.layout, shape: kernel.tensor.shape),
              let outView = ChannelView.output(of: kernel.layout, shape: kernel.tensor.shape),
              view.channels == affine.channels,
              let values = try? kernel.tensor.materialized().doubles(),
              values.count == view.outer * view.channels * view.inner else { return nil }
        var found = Found()
        if checks(kernel.tensor.dtype) {
            var index = 0
            for _ in 0..<view.outer {
                for c in 0..<view.channels {
                    for _ in 0..<view.inner {
                        found.check(values[index] * affine.scale[c], role: kernel.role, index: index, dtype: kernel.tensor.dtype, channel: c)
                        index += 1
                    }
                }
            }
        }
        let bias = consumer.weight(.bias)
        let biasType = bias?.tensor.dtype ?? kernel.tensor.dtype
        if checks(biasType) {
            let outputs = outView.totalChannels
            let outputOnInner = kernel.layout == .hwio || kernel.layout == .io
            let added = view.contract(values, with: affine.shift, outputs: outputs) { o, k in outputOnInner ? k : o }
            guard let b = biasValues(bias, count: outputs) else { return found.result }
            // A folded bias value mixes every input channel: it is counted against none.
            for o in 0..<outputs {
                found.check(b[o] + added[o], role: .bias, index: o, dtype: biasType, channel: nil)
            }
        }
        return found.result
    }

    /// The values of `bias` (zeros when there is none), or nil when it cannot be read or does not
    /// hold `count` values.
    private static func biasValues(_ bias: Weight?, count: Int) -> [Double]? {
        guard let bias else { return Array(repeating: 0, count: count) }
        guard let values = try? bias.tensor.materialized().doubles(), values.count == count else { return nil }
        return values
    }

    /// The values beyond range met so far.
    private struct Found {
        var first: Value?
        var worst: Value?
        var count = 0
        var channels = Set<Int>()

        mutating func check(_ value: Double, role: WeightRole, index: Int, dtype: DType, channel: Int?) {
            guard FoldOverflow.overflows(value, in: dtype) else { return }
            let v = Value(role: role, index: index, value: value, dtype: dtype)
            if first == nil { first = v }
            if abs(value) > abs(worst?.value ?? 0) { worst = v }
            count += 1
            if let channel { channels.insert(channel) }
        }

        var result: FoldOverflow? {
            guard let first, let worst else { return nil }
            return FoldOverflow(first: first, worst: worst, count: count, channels: channels.count)
        }
    }
}
