import BNConvCore
import BNConvModel
import BNConvInterop

/// Attribute defaults of the TensorFlow ops bnconv interprets: an attribute missing from a
/// NodeDef takes its OpDef default (graph.proto, node_def.proto comments).
///
/// Dumped from `tensorflow.python.framework.op_def_registry.get(op)` in tensorflow-cpu 2.21.0
/// (type attributes left out):
/// ```
/// FusedBatchNorm/V2/V3: epsilon=9.999999747378752e-05, exponential_avg_factor=1.0, data_format='NHWC', is_training=True
/// Conv2D: use_cudnn_on_gpu=True, explicit_paddings=[], data_format='NHWC', dilations=[1, 1, 1, 1]
/// DepthwiseConv2dNative: explicit_paddings=[], data_format='NHWC', dilations=[1, 1, 1, 1]
/// Conv2DBackpropInput: use_cudnn_on_gpu=True, explicit_paddings=[], data_format='NHWC', dilations=[1, 1, 1, 1]
/// MatMul: transpose_a=False, transpose_b=False, grad_a=False, grad_b=False
/// BiasAdd: data_format='NHWC'
/// MaxPool: explicit_paddings=[], data_format='NHWC'
/// AvgPool: data_format='NHWC'
/// Mean: keep_dims=False
/// LeakyRelu: alpha=0.20000000298023224
/// Squeeze: squeeze_dims=[]
/// ```
/// `strides`, `padding` and `ksize` have no default (required attributes).
enum TensorFlowOpDefaults {
    /// FusedBatchNorm* `epsilon` (float32 0.0001; NOT zero).
    static let batchNormEpsilon = Double(Float(1e-4))
    /// FusedBatchNorm* `is_training`: a missing attribute means training mode.
    static let batchNormIsTraining = true
    /// FusedBatchNorm* `exponential_avg_factor`.
    static let batchNormExponentialAvgFactor: Float = 1
    /// `data_format` of every conv, pool, BN and BiasAdd op.
    static let dataFormat = "NHWC"
    /// Conv2D / DepthwiseConv2dNative / Conv2DBackpropInput `dilations`.
    static let dilations: [Int64] = [1, 1, 1, 1]
    /// MatMul `transpose_a` / `transpose_b`.
    static let transpose = false
    /// Mean / Max `keep_dims`.
    static let keepDims = false
    /// LeakyRelu `alpha` (float32 0.2).
    static let leakyReluAlpha = Double(Float(0.2))
}
