/// The opset versions at which each ONNX operator of bnconv's scope got a new signature or type
/// list: the `since_version`s of its schemas (onnx/onnx `docs/Changelog.md`; read from onnx 1.23's
/// `onnx.defs.get_schema(op, version).since_version` for versions 1 to 28).
///
/// A node written for opset `n` has the form of its op's latest version at or before `n`, and
/// that form stays valid up to the op's next version. ``ONNXOpsetUpgrade`` says what each version
/// changed.
enum ONNXOpsetHistory {
    /// Since-versions by op type, ascending.
    static let versions: [String: [Int]] = [
        "Abs": [1, 6, 13], "Add": [1, 6, 7, 13, 14], "And": [1, 7], "ArgMax": [1, 11, 12, 13], "ArgMin": [1, 11, 12, 13],
        "AveragePool": [1, 7, 10, 11, 19, 22], "BatchNormalization": [1, 6, 7, 9, 14, 15],
        "Cast": [1, 6, 9, 13, 19, 21, 23, 24, 25, 28], "CastLike": [15, 19, 21, 23, 24, 25], "Ceil": [1, 6, 13],
        "Celu": [12, 28], "Clip": [1, 6, 11, 12, 13], "Concat": [1, 4, 11, 13],
        "Constant": [1, 9, 11, 12, 13, 19, 21, 23, 24, 25], "ConstantOfShape": [9, 20, 21, 23, 24, 25],
        "Conv": [1, 11, 22], "ConvTranspose": [1, 11, 22], "DepthToSpace": [1, 11, 13, 28], "Div": [1, 6, 7, 13, 14],
        "Dropout": [1, 6, 7, 10, 12, 13, 22], "Elu": [1, 6, 22], "Equal": [1, 7, 11, 13, 19], "Erf": [9, 13],
        "Exp": [1, 6, 13], "Expand": [8, 13], "Flatten": [1, 9, 11, 13, 21, 23, 24, 25], "Floor": [1, 6, 13],
        "Gather": [1, 11, 13], "GatherElements": [11, 13], "Gelu": [20], "Gemm": [1, 6, 7, 9, 11, 13],
        "GlobalAveragePool": [1, 22], "GlobalLpPool": [1, 2, 22], "GlobalMaxPool": [1, 22], "Greater": [1, 7, 9, 13],
        "GreaterOrEqual": [12, 16], "GroupNormalization": [18, 21], "HardSigmoid": [1, 6, 22], "HardSwish": [14, 22],
        "Hardmax": [1, 11, 13], "Identity": [1, 13, 14, 16, 19, 21, 23, 24, 25], "InstanceNormalization": [1, 6, 22],
        "LRN": [1, 13], "LayerNormalization": [17], "LeakyRelu": [1, 6, 16], "Less": [1, 7, 9, 13],
        "LessOrEqual": [12, 16], "Log": [1, 6, 13], "LogSoftmax": [1, 11, 13], "LpPool": [1, 2, 11, 18, 22],
        "MatMul": [1, 9, 13], "Max": [1, 6, 8, 12, 13], "MaxPool": [1, 8, 10, 11, 12, 22], "Mean": [1, 6, 8, 13],
        "MeanVarianceNormalization": [9, 13], "Min": [1, 6, 8, 12, 13], "Mish": [18, 22], "Mod": [10, 13, 28],
        "Mul": [1, 6, 7, 13, 14], "Neg": [1, 6, 13], "NonZero": [9, 13], "Not": [1], "OneHot": [9, 11, 28],
        "Or": [1, 7], "PRelu": [1, 6, 7, 9, 16], "Pad": [1, 2, 11, 13, 18, 19, 21, 23, 24, 25], "Pow": [1, 7, 12, 13, 15],
        "Range": [11, 27], "Reciprocal": [1, 6, 13], "ReduceL1": [1, 11, 13, 18], "ReduceL2": [1, 11, 13, 18], "ReduceLogSum": [1, 11, 13, 18, 28],
        "ReduceLogSumExp": [1, 11, 13, 18, 28], "ReduceMax": [1, 11, 12, 13, 18, 20], "ReduceMean": [1, 11, 13, 18],
        "ReduceMin": [1, 11, 12, 13, 18, 20], "ReduceProd": [1, 11, 13, 18], "ReduceSum": [1, 11, 13],
        "ReduceSumSquare": [1, 11, 13, 18], "Relu": [1, 6, 13, 14], "Reshape": [1, 5, 13, 14, 19, 21, 23, 24, 25],
        "Resize": [10, 11, 13, 18, 19], "Selu": [1, 6, 22], "Shape": [1, 13, 15, 19, 21, 23, 24, 25],
        "Sigmoid": [1, 6, 13], "Sign": [9, 13], "Size": [1, 13, 19, 21, 23, 24, 25], "Slice": [1, 10, 11, 13],
        "Softmax": [1, 11, 13], "Softplus": [1, 22], "Softsign": [1, 22], "SpaceToDepth": [1, 13, 28],
        "Split": [1, 2, 11, 13, 18], "Sqrt": [1, 6, 13], "Squeeze": [1, 11, 13, 21, 23, 24, 25], "Sub": [1, 6, 7, 13, 14],
        "Sum": [1, 6, 8, 13], "Tanh": [1, 6, 13], "ThresholdedRelu": [10, 22], "Tile": [1, 6, 13],
        "Transpose": [1, 13, 21, 23, 24, 25], "Trilu": [14], "Unsqueeze": [1, 11, 13, 21, 23, 24, 25],
        "Upsample": [1, 7, 9, 10], "Where": [9, 16], "Xor": [1, 7],
    ]

    /// The version whose form a node of `type` written for opset `opset` has (its latest since-version
    /// at or before `opset`); nil for an op bnconv does not know or one that did not exist yet.
    static func formVersion(of type: String, at opset: Int) -> Int? {
        versions[type]?.last { $0 <= opset }
    }

    /// The versions of `type` after `from` up to and including `to`.
    static func changes(of type: String, after from: Int, through to: Int) -> [Int] {
        (versions[type] ?? []).filter { $0 > from && $0 <= to }
    }
}
