/// Where the channel axis of an activation lies.
///
/// `channelsLast` is NHWC (NWC, NDHWC, and NC for 2-D); `channelsFirst` is NCHW (NCW, NCDHW).
public enum DataLayout: String, Sendable, Codable {
    /// Channels last: NHWC, Keras's and TensorFlow's default.
    case channelsLast = "nhwc"
    /// Channels first: NCHW, ONNX's and PyTorch's.
    case channelsFirst = "nchw"

    /// The channel axis of a tensor of `rank` dimensions (batch included).
    public func channelAxis(rank: Int) -> Int { self == .channelsLast ? rank - 1 : 1 }

    /// The spatial axes of a tensor of `rank` dimensions (batch included).
    public func spatialAxes(rank: Int) -> [Int] {
        self == .channelsLast ? Array(1..<(rank - 1)) : Array(2..<rank)
    }
}

/// How a weight tensor's axes are laid out; it says which axis holds output channels.
///
/// Letters: `h`/`w` stand for every spatial axis (1-D and 3-D kernels too), `i` input channels,
/// `o` output channels, `m` depth multiplier. See docs/math.md, Folding.
public enum KernelLayout: String, Sendable, Codable {
    /// spatial..., in, out: Keras Conv1D/2D/3D, TF Conv2D; also the SeparableConv pointwise kernel.
    case hwio
    /// spatial..., in, multiplier: Keras DepthwiseConv2D; output channel `i * multiplier + m`.
    case hwcm
    /// spatial..., out, in: Keras Conv2DTranspose, TF Conv2DBackpropInput.
    case hwoi
    /// out, in/group, spatial...: ONNX Conv, PyTorch.
    case oihw
    /// in, out/group, spatial...: ONNX ConvTranspose.
    case iohw
    /// in, out: Keras Dense, TF MatMul, ONNX Gemm with transB = 0.
    case io
    /// out, in: ONNX Gemm with transB = 1, TF MatMul with transpose_b.
    case oi
    /// A per-channel vector (bias, BN parameters) or anything without channel structure.
    case vector
}
