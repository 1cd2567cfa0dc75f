/// A per-column step applied to a linear op's product (`rows x columns`, columns = channels) after
/// the GEMM: the layer's bias and activation, and, when the executor fuses a following
/// inference-mode BatchNorm (last axis) and activation into the same pass over memory, their maps.
/// The arithmetic is the same as running the steps one by one, in the same order.
enum PostOp {
    /// `x + bias[c]`.
    case bias([Float])
    /// `x * scale[c] + shift[c]` (a BatchNorm's ``BatchNormCoefficients`` rounded to float).
    case affine(scale: [Float], shift: [Float])
    /// An element-wise activation (softmax only as the last step).
    case activation(Activation)
}
