/// How a model read from a TensorFlow checkpoint or SavedModel was made: the graph frozen from
/// it, for `inspect` to show and for `fold`/`convert` to check.
public struct FreezeReport: Sendable, Equatable, Codable {
    /// What was read (`checkpoint model.ckpt with model.ckpt.meta`, `SavedModel (TF2), signature serving_default`).
    public var source: String
    /// The placeholders the outputs need.
    public var inputs: [String]
    /// The outputs frozen.
    public var outputs: [String]
    /// How many variables became constants.
    public var variableCount: Int
    /// Function calls inlined (TF2 SavedModels).
    public var inlinedCalls: Int
    /// `tf.cond` switches with a constant predicate resolved.
    public var resolvedSwitches: Int
    /// BatchNorms left normalizing by batch statistics, one line each (empty after `assumeInference`).
    public var batchStatistics: [String]
    /// BatchNorms rewired to their moving statistics (`assumeInference`), one line each.
    public var rewired: [String]
    /// The tensor bundle the values came from (its prefix).
    public var checkpointPrefix: String
    /// The file holding the graph (the `.meta`, or the SavedModel's `saved_model.pb`).
    public var graphFile: String
    /// The SavedModel directory, when the model is one.
    public var savedModelDirectory: String?
    /// The SavedModel signature frozen, when one was.
    public var signature: String?
    /// That signature's inputs: key -> graph tensor (`serving_default_input:0`).
    public var signatureInputs: [String: String] = [:]
    /// That signature's outputs: key -> the frozen graph's tensor.
    public var signatureOutputs: [String: String] = [:]
    /// Each variable made a constant (its node name, the weights' storage key) -> its checkpoint key
    /// (not in JSON: `inspect --json` lists each BatchNorm variable's key as its `path`).
    public var variableKeys: [String: String] = [:]

    private enum CodingKeys: String, CodingKey {
        case source, inputs, outputs, variableCount, inlinedCalls, resolvedSwitches, batchStatistics, rewired
        case checkpointPrefix, graphFile, savedModelDirectory, signature, signatureInputs, signatureOutputs
    }
}
