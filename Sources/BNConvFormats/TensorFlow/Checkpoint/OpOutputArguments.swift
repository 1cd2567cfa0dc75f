/// The output arguments of TensorFlow ops that have more than one (tensorflow/core/ops/*.cc op
/// registrations), so that a function body's reference "node:arg:index" becomes the GraphDef's
/// flat "node:k". Every listed argument is a single tensor; an op not listed has one output
/// argument (possibly a list), so its flat index is `index`.
enum OpOutputArguments {
    /// Output argument names, in order, of the multi-output ops bnconv meets in inference graphs.
    static let names: [String: [String]] = [
        "FusedBatchNorm": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
        "FusedBatchNormV2": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
        "FusedBatchNormV3": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"],
        "Switch": ["output_false", "output_true"],
        "RefSwitch": ["output_false", "output_true"],
        "Merge": ["output", "value_index"],
        "RefMerge": ["output", "value_index"],
        "Unique": ["y", "idx"],
        "UniqueV2": ["y", "idx"],
        "TopKV2": ["values", "indices"],
        "MaxPoolWithArgmax": ["output", "argmax"],
        "BroadcastGradientArgs": ["r0", "r1"],
    ]

    /// The flat output index of argument `argument`, element `index`, of an `op` node; nil when
    /// `op` is listed and has no such argument.
    static func flatIndex(op: String, argument: String, index: Int) -> Int? {
        guard let args = names[op] else { return index }
        guard let position = args.firstIndex(of: argument) else { return nil }
        return position + index
    }
}
