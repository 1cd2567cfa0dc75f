import Foundation
import BNConvCore
import BNConvModel
import BNConvInterop

/// Reads Keras TF-format weights, the tensor-bundle checkpoint tf_keras `model.save_weights("w.ckpt")`
/// writes (`w.ckpt.index` + `w.ckpt.data-00000-of-00001`), with the architecture from the model's
/// `model.to_json()` (or a `.keras` archive's config), into a ``Model`` like any Keras weights file
/// with `--config`: the layers from the config, each layer's variables from the checkpoint.
///
/// Keys are found through the checkpoint's object graph (`KerasCheckpointKeys`): the root's
/// `layer-M` children are the config's layers in `model.layers` order, each layer's children its
/// variables. A config that does not match the checkpoint (a layer missing or extra, a variable
/// missing or of another shape) is refused with the checkpoint key concerned. Entries that are not
/// the model's (the optimizer's slots and step, `save_counter`) are left out of the model; a
/// checkpoint written back in place of this one (`KerasCheckpointWriter`) copies them as stored.
///
/// Every tensor's CRC-32C is checked as it is read. With `deferringFrom` (a byte count), weights
/// of that size or more stay in the data file (deferred ``Tensor``s lent from a mapping of it),
/// which must then not change while the model holds them.
public enum KerasCheckpointReader {
    /// Reads the checkpoint at `prefix` with the architecture in `configPath`.
    public static func read(prefix: String, configPath: String, deferringFrom minimumBytes: Int? = nil,
                            options: ReadOptions = ReadOptions()) throws -> Model {
        try KerasReader.mapErrors(file: prefix) {
            let bundle = try TensorBundle(prefix: prefix, limits: options.limits)
            guard let graph = try bundle.objectGraph(file: prefix) else {
                throw CheckpointError(.unsupported, file: prefix, problem:
                    "the checkpoint has no object graph (\(TensorBundle.objectGraphKey)): it is a name-based TF1 checkpoint, not Keras TF-format weights "
                    + "(model.save_weights); its graph is a MetaGraphDef (--meta FILE), not --config")
            }
            let (config, text) = try KerasReader.loadConfig(configPath, forWeightsOf: prefix)
            let container = try KerasContainer(model: config, place: "config")
            let keys = try KerasCheckpointKeys(graph: graph, container: container, file: prefix)
            let variables = try storedVariables(keys, container: container, bundle: bundle, prefix: prefix, deferringFrom: minimumBytes)
            let version = config["keras_version"]?.stringValue
            let dialect = KerasReader.detectDialect(config, version: version, text: text)
            var builder = KerasGraphBuilder(dialect: dialect, variables: variables)
            let outputs = try builder.build(container)
            var record = KerasModelRecord(format: .kerasCheckpoint, dialect: dialect, kerasVersion: version, sourcePath: prefix,
                                          config: config, configText: text, container: container)
            record.valueRefs = builder.valueRefs
            record.checkpointPrefix = prefix
            return try KerasReader.finish(builder, outputs: outputs, name: container.name, format: .kerasCheckpoint, record: record)
        }
    }

    /// Each leaf layer's variables read from `bundle` (those of `minimumBytes` or more deferred),
    /// after checking each against the shape the layer's config gives it (which variables a layer
    /// has is checked while matching, `KerasCheckpointKeys`).
    private static func storedVariables(_ keys: KerasCheckpointKeys, container: KerasContainer, bundle: TensorBundle,
                                        prefix: String, deferringFrom minimumBytes: Int?) throws -> [String: [KerasStoredVariable]] {
        var out: [String: [KerasStoredVariable]] = [:]
        func visit(_ container: KerasContainer, path: [String]) throws {
            for entry in KerasCheckpointKeys.modelLayers(of: container) {
                let layerPath = (path + [entry.name]).joined(separator: "/")
                if let nested = entry.nested {
                    try visit(nested, path: path + [entry.name])
                    continue
                }
                let found = keys.variables[layerPath] ?? []
                let expected = KerasExpectedShapes.shapes(of: entry)
                out[layerPath] = try found.map { v in
                    guard let stored = bundle.entry(v.key) else {
                        throw CheckpointError(.malformed, file: prefix, place: v.key, problem:
                            "the object graph names this key for '\(v.fullName)' of layer '\(layerPath)', but the checkpoint stores no tensor under it")
                    }
                    if let shape = expected[v.name], !KerasExpectedShapes.matches(stored.shape, shape) {
                        throw CheckpointError(.malformed, file: prefix, place: v.key, problem:
                            "the config's \(entry.className) layer '\(layerPath)' has \(v.name) \(KerasExpectedShapes.describe(shape)), "
                            + "but the checkpoint's is \(stored.shape); the config does not match the checkpoint")
                    }
                    var tensor = try bundle.tensor(v.key)
                    if minimumBytes.map({ stored.size < $0 }) ?? true { tensor = try tensor.materialized() }
                    return KerasStoredVariable(variable: v.name, storedName: v.fullName + ":0", storageKey: v.key,
                                               tensor: tensor, creation: .contiguous)
                }
            }
        }
        try visit(container, path: [])
        return out
    }
}
