import BNConvCore
import BNConvModel
import BNConvInterop

/// One spatial axis of a sliding window (convolution or pooling): sizes, stride, dilation and the
/// padding before the first position, by TensorFlow's rules.
struct WindowAxis: Equatable {
    /// Input length.
    var input: Int
    /// Window length (undilated).
    var kernel: Int
    /// Step between windows.
    var stride: Int
    /// Spacing between window taps.
    var dilation: Int
    /// Padding before the first element.
    var padBefore: Int
    /// Output length.
    var output: Int

    /// The dilated window extent `(kernel - 1) * dilation + 1`.
    var extent: Int { (kernel - 1) * dilation + 1 }

    /// A forward window (conv, pool) along spatial axis `axis` of `padding`:
    /// VALID `out = floor((in - extent) / s) + 1`; SAME `out = ceil(in / s)` with
    /// `total = max((out - 1) s + extent - in, 0)` and `before = total / 2` (the odd pixel after);
    /// causal: all `extent - 1` before; explicit: as given.
    init(input: Int, kernel: Int, stride: Int, dilation: Int, padding: Padding, axis: Int) throws {
        self.input = input
        self.kernel = kernel
        self.stride = max(stride, 1)
        self.dilation = max(dilation, 1)
        self.padBefore = 0
        self.output = 0
        let extent = self.extent
        switch padding {
        case .valid:
            output = input >= extent ? (input - extent) / self.stride + 1 : 0
        case .same:
            output = (input + self.stride - 1) / self.stride
            padBefore = max((output - 1) * self.stride + extent - input, 0) / 2
        case .causal:
            padBefore = extent - 1
            output = input > 0 ? (input - 1) / self.stride + 1 : 0
        case .explicit(let pairs):
            guard axis < pairs.count else {
                throw EngineError.shapeMismatch("explicit padding pairs", expected: [axis + 1], got: [pairs.count])
            }
            padBefore = pairs[axis].before
            let padded = input + pairs[axis].before + pairs[axis].after
            output = padded >= extent ? (padded - extent) / self.stride + 1 : 0
        }
    }

    /// A transposed-convolution axis: Keras's `deconv_output_length` for the output size
    /// (valid: `in*s + max(extent - s, 0)`, same: `in*s`; with output_padding `(in-1)*s + extent - 2*pad + op`
    /// where pad is `extent/2` for same and 0 for valid), and TensorFlow's padding of the forward
    /// convolution from that output back to the input (the odd pixel after).
    init(transposedInput input: Int, kernel: Int, stride: Int, dilation: Int, padding: Padding,
         outputPadding: Int?, axis: Int) throws {
        self.input = input
        self.kernel = kernel
        self.stride = max(stride, 1)
        self.dilation = max(dilation, 1)
        self.padBefore = 0
        self.output = 0
        let extent = self.extent, s = self.stride
        switch padding {
        case .valid:
            if let op = outputPadding { output = (input - 1) * s + extent + op } else { output = input * s + max(extent - s, 0) }
            padBefore = 0
        case .same:
            if let op = outputPadding { output = (input - 1) * s + extent - 2 * (extent / 2) + op } else { output = input * s }
            let forwardOut = (output + s - 1) / s
            padBefore = max((forwardOut - 1) * s + extent - output, 0) / 2
        case .explicit(let pairs):
            guard axis < pairs.count else {
                throw EngineError.shapeMismatch("explicit padding pairs", expected: [axis + 1], got: [pairs.count])
            }
            output = (input - 1) * s + extent - pairs[axis].before - pairs[axis].after + (outputPadding ?? 0)
            padBefore = pairs[axis].before
        case .causal:
            throw EngineError.shapeMismatch("causal padding on a transposed convolution", expected: [], got: [])
        }
    }

    /// The columns `j` in `0..<count` whose `j * stride + offset` lies in `0..<length` (empty when
    /// none): the output columns whose tap lands inside an input line (a convolution's im2col and
    /// depthwise rows), or the input columns that land inside an output line (col2im).
    static func inside(offset: Int, stride: Int, length: Int, count: Int) -> Range<Int> {
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let hi = length - 1 - offset < 0 ? 0 : min(count, (length - 1 - offset) / stride + 1)
        return min(lo, hi)..<hi
    }
}
