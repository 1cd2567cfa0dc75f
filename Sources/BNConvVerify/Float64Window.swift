import BNConvModel

/// One spatial axis of a convolution window for the float64 reference (``Float64Reference``): the
/// output length and the padding before the first input element, from the frameworks' definitions.
///
/// Forward (TensorFlow `tf.nn.convolution`, Keras `conv_output_length`, ONNX `Conv`): VALID
/// `out = floor((in - extent) / stride) + 1`; SAME `out = ceil(in / stride)`, padded by
/// `max((out - 1) * stride + extent - in, 0)` of which the smaller half goes before; causal (Keras
/// Conv1D) all `extent - 1` before; explicit (ONNX `pads`) as given. Output `o` reads input
/// `o * stride - before + tap * dilation`.
///
/// Transposed (Keras `deconv_output_length`, TensorFlow `conv2d_transpose`, ONNX `ConvTranspose`):
/// the length without `output_padding` is `in * stride + max(extent - stride, 0)` (VALID) or
/// `in * stride` (SAME); with it, `(in - 1) * stride + extent - 2 * pad + output_padding` where `pad`
/// is `extent / 2` for SAME and 0 for VALID; explicit pads give
/// `(in - 1) * stride + extent - before - after + output_padding`. The window sits where the forward
/// convolution from that output back to the input puts it (SAME: `before` is the smaller half of
/// `max((ceil(out / stride) - 1) * stride + extent - out, 0)`). Input `i` adds into output
/// `i * stride - before + tap * dilation`.
struct Float64Window: Equatable {
    /// The window length (undilated).
    var kernel: Int
    /// The step between windows.
    var stride: Int
    /// The spacing between taps.
    var dilation: Int
    /// The padding before the first element.
    var before: Int
    /// The output length.
    var output: Int

    /// The dilated extent `(kernel - 1) * dilation + 1`.
    static func extent(kernel: Int, dilation: Int) -> Int { (kernel - 1) * dilation + 1 }

    /// A forward window over `input` elements along spatial axis `axis` of `padding`.
    init(forward input: Int, kernel: Int, stride: Int, dilation: Int, padding: Padding, axis: Int) throws {
        guard kernel >= 1, stride >= 1, dilation >= 1 else { throw Float64Reference.Unsupported("a window of \(kernel) taps, stride \(stride), dilation \(dilation)") }
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
        let extent = Self.extent(kernel: kernel, dilation: dilation)
        switch padding {
        case .valid:
            before = 0
            output = input >= extent ? (input - extent) / stride + 1 : 0
        case .same:
            output = (input + stride - 1) / stride
            before = max((output - 1) * stride + extent - input, 0) / 2
        case .causal:
            before = extent - 1
            output = (input + stride - 1) / stride
        case .explicit(let pairs):
            guard axis < pairs.count else { throw Float64Reference.Unsupported("no explicit padding for spatial axis \(axis)") }
            before = pairs[axis].before
            let padded = input + pairs[axis].before + pairs[axis].after
            output = padded >= extent ? (padded - extent) / stride + 1 : 0
        }
    }

    /// A transposed-convolution window over `input` elements along spatial axis `axis`.
    init(transposed input: Int, kernel: Int, stride: Int, dilation: Int, padding: Padding, outputPadding: Int?, axis: Int) throws {
        guard kernel >= 1, stride >= 1, dilation >= 1 else { throw Float64Reference.Unsupported("a window of \(kernel) taps, stride \(stride), dilation \(dilation)") }
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
        let extent = Self.extent(kernel: kernel, dilation: dilation)
        switch padding {
        case .valid:
            output = outputPadding.map { (input - 1) * stride + extent + $0 } ?? input * stride + max(extent - stride, 0)
            before = 0
        case .same:
            output = outputPadding.map { (input - 1) * stride + extent - 2 * (extent / 2) + $0 } ?? input * stride
            let forward = (output + stride - 1) / stride
            before = max((forward - 1) * stride + extent - output, 0) / 2
        case .explicit(let pairs):
            guard axis < pairs.count else { throw Float64Reference.Unsupported("no explicit padding for spatial axis \(axis)") }
            before = pairs[axis].before
            output = (input - 1) * stride + extent - pairs[axis].before - pairs[axis].after + (outputPadding ?? 0)
        case .causal:
            throw Float64Reference.Unsupported("causal padding on a transposed convolution")
        }
    }

    /// A window of one tap that passes `length` elements through (a spatial axis the op lacks).
    init(unit length: Int) {
        kernel = 1
        stride = 1
        dilation = 1
        before = 0
        output = length
    }
}
